#!/usr/bin/env python3
"""Writes security-logons.evtx: a two-chunk EVTX file of Security sign-in events.

No freely licensed .evtx sample small enough to commit was found, so this builds one from
the file format (MS-EVEN6), after the synthetic-file builder in the `evtx` crate's tests
(MIT/Apache-2.0). Records use plain BinXML elements rather than templates; typed values
(UInt16 event id, FILETIME, UInt64 record id, UInt32 logon type, HexInt32 status) are what
the `evtx` crate renders as real Security logs render. Run from this directory:

    python3 make_evtx.py
"""
import struct
import zlib
from datetime import datetime, timedelta, timezone

FILE_HEADER = 4096
CHUNK = 65536
CHUNK_HEADER = 512
RECORD_HEADER = 24


class BinXml:
    def __init__(self, base):
        self.b = bytearray()
        self.base = base

    def pos(self):
        return self.base + len(self.b)

    def raw(self, data):
        self.b += data
        return self

    def name(self, name):
        off = self.pos() + 4
        units = name.encode("utf-16-le")
        self.raw(struct.pack("<IIHH", off, 0, 0, len(units) // 2) + units + b"\0\0")

    def open(self, name, attributes=False):
        self.raw(bytes([0x41 if attributes else 0x01]) + struct.pack("<I", 0))
        self.name(name)
        if attributes:
            self.raw(struct.pack("<I", 0))

    def attr(self, name, value):
        self.raw(b"\x06")
        self.name(name)
        self.value(value)

    def value(self, value):
        kind, data = value
        if kind == "s":
            units = data.encode("utf-16-le")
            self.raw(b"\x05\x01" + struct.pack("<H", len(units) // 2) + units)
        elif kind == "u16":
            self.raw(b"\x05\x06" + struct.pack("<H", data))
        elif kind == "u32":
            self.raw(b"\x05\x08" + struct.pack("<I", data))
        elif kind == "u64":
            self.raw(b"\x05\x0a" + struct.pack("<Q", data))
        elif kind == "hex32":
            self.raw(b"\x05\x14" + struct.pack("<I", data))
        elif kind == "filetime":
            self.raw(b"\x05\x11" + struct.pack("<Q", data))

    def element(self, name, attrs=(), value=None):
        self.open(name, attributes=bool(attrs))
        for a, v in attrs:
            self.attr(a, v)
        if value is None:
            self.raw(b"\x03")  # close empty
        else:
            self.raw(b"\x02")
            self.value(value)
            self.raw(b"\x04")


def filetime(iso):
    t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    epoch = datetime(1601, 1, 1, tzinfo=timezone.utc)
    return (t - epoch) // timedelta(microseconds=1) * 10


def event(base, record_id, event_id, time, data):
    x = BinXml(base)
    x.raw(b"\x0f\x01\x01\x00")
    x.open("Event", attributes=True)
    x.attr("xmlns", ("s", "http://schemas.microsoft.com/win/2004/08/events/event"))
    x.raw(b"\x02")
    x.open("System")
    x.raw(b"\x02")
    x.element("Provider", [("Name", ("s", "Microsoft-Windows-Security-Auditing"))])
    x.element("EventID", value=("u16", event_id))
    x.element("TimeCreated", [("SystemTime", ("filetime", filetime(time)))])
    x.element("EventRecordID", value=("u64", record_id))
    x.element("Channel", value=("s", "Security"))
    x.element("Computer", value=("s", "DC01.contoso.local"))
    x.raw(b"\x04")
    x.open("EventData")
    x.raw(b"\x02")
    for name, value in data:
        x.element("Data", [("Name", ("s", name))], value)
    x.raw(b"\x04")
    x.raw(b"\x04")
    x.raw(b"\x00")
    return bytes(x.b)


def chunk(first_id, events):
    c = bytearray(CHUNK)
    at = CHUNK_HEADER
    last = at
    for i, (event_id, time, data) in enumerate(events):
        rid = first_id + i
        body = event(at + RECORD_HEADER, rid, event_id, time, data)
        size = RECORD_HEADER + len(body) + 4
        rec = b"**\0\0" + struct.pack("<IQQ", size, rid, filetime(time)) + body + struct.pack("<I", size)
        c[at : at + size] = rec
        last = at
        at += size
    n = len(events)
    c[0:8] = b"ElfChnk\0"
    struct.pack_into("<QQQQ", c, 8, first_id, first_id + n - 1, first_id, first_id + n - 1)
    struct.pack_into("<III", c, 40, 128, last, at)
    struct.pack_into("<I", c, 52, zlib.crc32(c[CHUNK_HEADER:at]))
    struct.pack_into("<I", c, 124, zlib.crc32(bytes(c[:120]) + bytes(c[128:CHUNK_HEADER])))
    return bytes(c)


CHUNKS = [
    [
        (4625, "2024-03-01T10:00:00.123456Z", [
            ("TargetUserSid", ("s", "S-1-0-0")), ("TargetUserName", ("s", "alice")),
            ("TargetDomainName", ("s", "CONTOSO")), ("Status", ("hex32", 0xC000006D)),
            ("FailureReason", ("s", "%%2313")), ("SubStatus", ("hex32", 0xC000006A)),
            ("LogonType", ("u32", 3)), ("WorkstationName", ("s", "-")),
            ("IpAddress", ("s", "203.0.113.7")), ("IpPort", ("s", "51234"))]),
        (4625, "2024-03-01T10:00:01Z", [
            ("TargetUserName", ("s", "nosuchuser")), ("Status", ("hex32", 0xC000006D)),
            ("SubStatus", ("hex32", 0xC0000064)), ("LogonType", ("u32", 3)),
            ("IpAddress", ("s", "203.0.113.7"))]),
    ],
    [
        (4624, "2024-03-01T10:05:00Z", [
            ("TargetUserSid", ("s", "S-1-5-21-1-2-3-1104")), ("TargetUserName", ("s", "Alice")),
            ("TargetDomainName", ("s", "CONTOSO")), ("LogonType", ("u32", 10)),
            ("IpAddress", ("s", "203.0.113.7")), ("IpPort", ("s", "51300"))]),
        (4771, "2024-03-01T10:06:00Z", [
            ("TargetUserName", ("s", "bob")), ("ServiceName", ("s", "krbtgt/CONTOSO.LOCAL")),
            ("Status", ("hex32", 0x18)), ("PreAuthType", ("s", "2")),
            ("IpAddress", ("s", "::ffff:198.51.100.20")), ("IpPort", ("s", "49667"))]),
        (4776, "2024-03-01T10:07:00Z", [
            ("PackageName", ("s", "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0")),
            ("TargetUserName", ("s", "carol")), ("Workstation", ("s", "WKS07")),
            ("Status", ("hex32", 0xC0000234))]),
        (4688, "2024-03-01T10:08:00Z", [("NewProcessName", ("s", "C:\\Windows\\notepad.exe"))]),
    ],
]


def main():
    chunks = []
    next_id = 1
    for events in CHUNKS:
        chunks.append(chunk(next_id, events))
        next_id += len(events)
    h = bytearray(FILE_HEADER)
    h[0:8] = b"ElfFile\0"
    struct.pack_into("<QQQIHHHH", h, 8, 0, len(chunks) - 1, next_id, 128, 1, 3, FILE_HEADER, len(chunks))
    struct.pack_into("<I", h, 124, zlib.crc32(bytes(h[:120])))
    with open("security-logons.evtx", "wb") as f:
        f.write(bytes(h) + b"".join(chunks))


main()
