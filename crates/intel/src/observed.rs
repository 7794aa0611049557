//! The values of one event that indicators are compared with, normalised once. An event
//! is one STIX observation: a sign-in (its source address and account) or a message (its
//! senders, subject, the hosts and URLs it links to, its attachments).

use std::net::IpAddr;

use md5::Digest as _;
use model::{Mail, MailRecord, SignIn};

use crate::normal;

/// At most this many hosts, URLs or files are taken from one message; the mail parser
/// already bounds links, this keeps the matcher's work per event bounded on its own.
const MAX_VALUES: usize = 512;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// `ipv4-addr:value` and `ipv6-addr:value`.
    pub ips: Vec<IpAddr>,
    /// `domain-name:value`: every host the event names, normalised. Indicators on a domain
    /// also match the names under it: see [`Observed::domain_candidates`].
    pub hosts: Vec<String>,
    /// `url:value`, normalised.
    pub urls: Vec<String>,
    /// `email-addr:value`: every sender-side address (From, Sender, Reply-To,
    /// Return-Path), normalised.
    pub email_addrs: Vec<String>,
    /// `email-message:from_ref.value`.
    pub from: Option<String>,
    /// `email-message:sender_ref.value`.
    pub sender: Option<String>,
    /// `email-message:subject`, as decoded.
    pub subject: Option<String>,
    /// `file:` objects: attachments.
    pub files: Vec<ObservedFile>,
    /// `user-account:account_login` and `user-account:user_id`.
    pub accounts: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservedFile {
    /// `file:name`.
    pub name: Option<String>,
    /// `file:hashes.MD5`, lower-case hex; only when the whole content was kept.
    pub md5: Option<String>,
    /// `file:hashes.'SHA-1'`.
    pub sha1: Option<String>,
    /// `file:hashes.'SHA-256'`.
    pub sha256: String,
}

impl Observed {
    /// A sign-in: its source address and the account tried.
    pub fn sign_in(sign_in: &SignIn) -> Observed {
        Observed {
            ips: sign_in.source_ip.into_iter().collect(),
            accounts: vec![sign_in.account.to_lowercase()],
            ..Observed::default()
        }
    }

    /// A message and the link targets the mail analyser extracted from it (`links` as
    /// written; they are normalised here).
    pub fn mail<'a>(mail: &Mail, links: impl IntoIterator<Item = &'a str>) -> Observed {
        let mut seen = Observed {
            subject: Some(mail.subject.clone()),
            from: mail.from.first().and_then(|m| normal::email(&m.address)),
            sender: mail.sender.as_ref().and_then(|m| normal::email(&m.address)),
            ..Observed::default()
        };
        let addresses = mail
            .from
            .iter()
            .chain(&mail.sender)
            .chain(&mail.reply_to)
            .map(|m| m.address.as_str())
            .chain(mail.return_path.as_deref());
        for address in addresses {
            if let Some(address) = normal::email(address) {
                if let Some((_, host)) = address.rsplit_once('@') {
                    seen.add_host(host);
                }
                push_new(&mut seen.email_addrs, address);
            }
        }
        seen.add_links(links);
        for attachment in mail.attachments.iter().take(MAX_VALUES) {
            let whole = attachment.data.len() as u64 == attachment.size;
            seen.files.push(ObservedFile {
                name: attachment.name.clone(),
                md5: whole.then(|| hex::encode(md5::Md5::digest(&attachment.data))),
                sha1: whole.then(|| hex::encode(sha1::Sha1::digest(&attachment.data))),
                sha256: attachment.sha256.to_ascii_lowercase(),
            });
        }
        seen
    }

    /// A stored message, for a retro-hunt: what tocsin kept of it (senders, subject, link
    /// targets, attachment SHA-256) — no body, so no MD5 or SHA-1.
    pub fn record(record: &MailRecord) -> Observed {
        let mut seen = Observed {
            subject: Some(record.subject.clone()),
            from: normal::email(&record.from.address),
            ..Observed::default()
        };
        let addresses =
            std::iter::once(record.from.address.as_str()).chain(record.reply_to.as_deref());
        for address in addresses {
            if let Some(address) = normal::email(address) {
                if let Some((_, host)) = address.rsplit_once('@') {
                    seen.add_host(host);
                }
                push_new(&mut seen.email_addrs, address);
            }
        }
        seen.add_links(record.links.iter().map(String::as_str));
        for attachment in record.attachments.iter().take(MAX_VALUES) {
            seen.files.push(ObservedFile {
                name: attachment.name.clone(),
                md5: None,
                sha1: None,
                sha256: attachment.sha256.to_ascii_lowercase(),
            });
        }
        seen
    }

    fn add_links<'a>(&mut self, links: impl IntoIterator<Item = &'a str>) {
        for link in links {
            if self.urls.len() >= MAX_VALUES {
                break;
            }
            let Some(url) = normal::url(link) else {
                continue;
            };
            if let Some(host) = url::Url::parse(&url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
            {
                match host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                {
                    Ok(ip) if !self.ips.contains(&ip) => self.ips.push(ip),
                    Ok(_) => {}
                    Err(_) => self.add_host(&host),
                }
            }
            push_new(&mut self.urls, url);
        }
    }

    fn add_host(&mut self, host: &str) {
        if self.hosts.len() < MAX_VALUES
            && let Some(host) = normal::domain(host)
        {
            push_new(&mut self.hosts, host);
        }
    }

    /// Each name a `domain-name` indicator is looked up under, with the host it came
    /// from: the host and its parents down to the registrable domain.
    pub fn domain_candidates(&self) -> impl Iterator<Item = (&str, &str)> {
        self.hosts
            .iter()
            .flat_map(|host| normal::parents(host).map(move |name| (name, host.as_str())))
    }
}

fn push_new(values: &mut Vec<String>, value: String) {
    if !values.contains(&value) {
        values.push(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Attachment, Mailbox};

    #[test]
    fn a_message_shows_its_senders_hosts_links_and_attachment_hashes() {
        let mail = Mail {
            subject: "Job offer".into(),
            from: vec![Mailbox {
                name: Some("HR".into()),
                address: "Jobs@Recruit.Evil.Example".into(),
            }],
            reply_to: vec![Mailbox {
                name: None,
                address: "x@bücher.example".into(),
            }],
            attachments: vec![Attachment {
                name: Some("cv.doc".into()),
                content_type: "application/msword".into(),
                size: 0,
                sha256: "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855".into(),
                data: Vec::new(),
            }],
            ..Mail::default()
        };
        let seen = Observed::mail(
            &mail,
            ["HTTPS://Login.Evil.Example/a", "http://198.51.100.7/x"],
        );
        assert_eq!(seen.from.as_deref(), Some("jobs@recruit.evil.example"));
        assert_eq!(
            seen.email_addrs,
            ["jobs@recruit.evil.example", "x@xn--bcher-kva.example"]
        );
        assert_eq!(
            seen.hosts,
            [
                "recruit.evil.example",
                "xn--bcher-kva.example",
                "login.evil.example"
            ]
        );
        assert_eq!(
            seen.urls,
            ["https://login.evil.example/a", "http://198.51.100.7/x"]
        );
        assert_eq!(
            seen.ips,
            ["198.51.100.7".parse::<IpAddr>().expect("address")]
        );
        let file = &seen.files[0];
        assert_eq!(
            file.md5.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(
            file.sha1.as_deref(),
            Some("da39a3ee5e6b4b0d3255bfef95601890afd80709")
        );
        assert!(file.sha256.starts_with("e3b0c442"));
        let candidates: Vec<_> = seen.domain_candidates().map(|(name, _)| name).collect();
        assert!(candidates.contains(&"evil.example"));
    }
}
