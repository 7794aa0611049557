#!/usr/bin/env python3
"""A DNS stub for the benchmark's peers: answers every query at once, NXDOMAIN.

rspamd (and any other peer) is pointed at it so that no lookup leaves the machine and
none waits for a timeout. UDP and TCP on 127.0.0.1; standard library only.

    dnsstub.py PORT        # runs until killed; prints "ready" on stdout once bound
"""
import socket
import socketserver
import struct
import sys
import threading


def answer(query: bytes) -> bytes | None:
    """NXDOMAIN for the query, echoing its id and question; None if it is no query."""
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000:  # a response, not a query
        return None
    # The question: labels up to the zero byte, then type and class.
    end = 12
    if qdcount:
        while end < len(query) and query[end] != 0:
            end += 1 + query[end]
        end += 5
    question = query[12:end] if end <= len(query) else b""
    opcode = flags & 0x7800
    rd = flags & 0x0100
    # QR, same opcode, RD copied, RA; RCODE 3 (NXDOMAIN), or 4 (not implemented) for
    # anything but a standard query.
    rcode = 3 if opcode == 0 else 4
    # A query with EDNS (an OPT record) gets one back: rspamd's resolver drops answers
    # without it and waits for its timeout (2 s a message in SPF lookups).
    edns = struct.unpack("!H", query[10:12])[0] > 0
    opt = b"\x00" + struct.pack("!HHIH", 41, 4096, 0, 0) if edns else b""
    header = struct.pack("!HHHHHH", ident, 0x8000 | opcode | rd | 0x0080 | rcode,
                         1 if question else 0, 0, 0, 1 if edns else 0)
    return header + question + opt


class Udp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        reply = answer(data)
        if reply:
            sock.sendto(reply, self.client_address)


class Tcp(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            size = self.rfile.read(2)
            if len(size) < 2:
                return
            data = self.rfile.read(struct.unpack("!H", size)[0])
            reply = answer(data)
            if not reply:
                return
            self.wfile.write(struct.pack("!H", len(reply)) + reply)


class UdpServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    allow_reuse_address = True
    daemon_threads = True


class TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5354
    udp = UdpServer(("127.0.0.1", port), Udp)
    tcp = TcpServer(("127.0.0.1", port), Tcp)
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    print("ready", flush=True)
    udp.serve_forever()


if __name__ == "__main__":
    main()
