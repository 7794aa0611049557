#!/usr/bin/env python3
"""A real SMTP server for tocsin's tests: aiosmtpd on 127.0.0.1, writing every message it
accepts to a directory as a .eml file, or refusing on demand.

    smtp-sink.py --port 0 --dir OUT [--mode accept|451|550] [--fail-first N]
                 [--starttls CERT KEY]

Prints "listening on 127.0.0.1:<port>" once it accepts connections (port 0 picks a
free one). Each accepted message is written to OUT/<n>-<recipient>.eml, atomically,
preceded by an "X-Sink-Envelope-To:" header naming the envelope recipients. The mode
can be changed while running by writing "accept", "451" or "550" to OUT/mode: RCPT is
then answered 250, 451 (try later) or 550 (no such mailbox). --fail-first N answers 451
to the first N recipients and then follows the mode.
"""

import argparse
import ssl
import asyncio
import itertools
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, mode, fail_first):
        self.out = out
        self.mode = mode
        self.fail_first = fail_first
        self.counter = itertools.count(1)

    def current_mode(self):
        try:
            with open(os.path.join(self.out, "mode")) as f:
                return f.read().strip() or self.mode
        except FileNotFoundError:
            return self.mode

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fail_first > 0:
            self.fail_first -= 1
            return "451 4.3.0 Try again later (sink told to fail first)"
        mode = self.current_mode()
        if mode == "451":
            return "451 4.3.0 Try again later"
        if mode == "550":
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        safe = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in envelope.rcpt_tos[0])
        name = os.path.join(self.out, f"{os.getpid()}-{n:06d}-{safe}.eml")
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        header = ("X-Sink-Envelope-To: " + ", ".join(envelope.rcpt_tos) + "\r\n").encode()
        # Written under another name and renamed, so a reader never sees half a message.
        with open(name + ".part", "wb") as f:
            f.write(header + content)
        os.rename(name + ".part", name)
        return f"250 2.0.0 Queued as {n}"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--mode", choices=["accept", "451", "550"], default="accept")
    parser.add_argument("--fail-first", type=int, default=0)
    # With a certificate and key (PEM), STARTTLS is offered and required before MAIL.
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    tls = None
    if args.starttls:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*args.starttls)
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir, args.mode, args.fail_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            sink,
            hostname="smtp-sink.test",
            decode_data=False,
            tls_context=tls,
            require_starttls=tls is not None,
        ),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
