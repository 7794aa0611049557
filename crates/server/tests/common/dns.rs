//! A real DNS server for tests: hickory-server, authoritative for `example.`, on a random
//! loopback port (UDP and TCP), serving a zone the test edits as it goes. Included with
//! `#[path]` by the tests that look names up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::rdata::{SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

pub struct Dns {
    pub address: SocketAddr,
    zone: Arc<InMemoryZoneHandler>,
    serial: std::sync::atomic::AtomicU32,
    _server: Server<Catalog>,
}

impl Dns {
    pub async fn start() -> Dns {
        let origin = Name::from_ascii("example.").expect("name");
        let mut zone =
            InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        let soa = SOA::new(
            Name::from_ascii("ns.example.").expect("name"),
            Name::from_ascii("hostmaster.example.").expect("name"),
            1,
            3600,
            600,
            86400,
            // A short negative TTL: nothing may cache "no record" across the test's steps.
            1,
        );
        assert!(zone.upsert_mut(Record::from_rdata(origin.clone(), 60, RData::SOA(soa)), 1));
        let zone = Arc::new(zone);
        let mut catalog = Catalog::new();
        catalog.upsert(LowerName::new(&origin), vec![zone.clone()]);
        let mut server = Server::new(catalog);
        // UDP first on a random port, then TCP on the same one (for truncated answers).
        let (udp, tcp) = loop {
            let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind udp");
            let port = udp.local_addr().expect("addr").port();
            if let Ok(tcp) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                break (udp, tcp);
            }
        };
        let address = udp.local_addr().expect("addr");
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 4096);
        Dns {
            address,
            zone,
            serial: std::sync::atomic::AtomicU32::new(1),
            _server: server,
        }
    }

    pub async fn publish_txt(&self, name: &str, text: &str) {
        let serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let record = Record::from_rdata(
            Name::from_ascii(format!("{name}.")).expect("name"),
            1,
            RData::TXT(TXT::new(vec![text.to_owned()])),
        );
        assert!(self.zone.upsert(record, serial).await, "record added");
    }
}
