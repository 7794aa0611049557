"""A real SMTP/LMTP client (Python's smtplib) driving tocsin's listener in the tests.

Usage: smtplib_client.py SCENARIO PORT [CERT_FILE]
Prints one JSON object: what the server answered, and the exact bytes sent when a message
was sent (base64), for the Rust test to compare with what the sink received.
"""

import base64
import json
import smtplib
import ssl
import sys
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

HOST = "127.0.0.1"
SENDER = "journal-report@contoso.example"
ACME = "journal+acme@tocsin.example"
GLOBEX = "journal+globex@tocsin.example"
USER = "acme-journal"
PASSWORD = "correct horse battery staple"


def multipart_message(subject="Quarterly results", filler=0):
    """A real multipart message: text, HTML and a binary attachment, CRLF line ends."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = "Dr. Ada Example <ada@who-int.example>"
    msg["To"] = "staff@clinic.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<tocsin-test-1@who-int.example>"
    msg.set_content("Bonjour,\n\nVoir la pièce jointe. Été 2020.\n" + "x" * filler + "\n")
    msg.add_alternative("<html><body><p>See <a href='https://who-int.example/x'>WHO</a></p></body></html>", subtype="html")
    msg.add_attachment(bytes(range(256)) * 4, maintype="application", subtype="octet-stream", filename="report.bin")
    return msg.as_bytes()


def reply(pair):
    code, text = pair
    return [code, text.decode("utf-8", "replace")]


def plain_delivery(port, _cert):
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        ehlo = reply(smtp.ehlo("client.contoso.example"))
        raw = multipart_message()
        refused = smtp.sendmail(SENDER, [ACME], raw)
        features = sorted(smtp.esmtp_features)
        return {"ehlo": ehlo, "features": features, "refused": list(refused), "sent": base64.b64encode(raw).decode()}


def lmtp_two_recipients(port, _cert):
    lmtp = smtplib.LMTP(HOST, port, timeout=10)
    hello = reply(lmtp.ehlo("mx.contoso.example"))
    raw = multipart_message(subject="LMTP copy")
    mail = reply(lmtp.mail(SENDER))
    rcpts = [reply(lmtp.rcpt(ACME)), reply(lmtp.rcpt(GLOBEX))]
    # smtplib reads one reply to DATA; LMTP sends one per accepted recipient.
    first = reply(lmtp.data(raw))
    second = reply(lmtp.getreply())
    helo = reply(lmtp.docmd("HELO", "mx.contoso.example"))
    quit_ = reply(lmtp.quit())
    return {"hello": hello, "mail": mail, "rcpts": rcpts, "data": [first, second], "helo": helo,
            "quit": quit_, "sent": base64.b64encode(raw).decode()}


def starttls_plain_auth(port, cert):
    context = ssl.create_default_context(cafile=cert)
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        smtp.ehlo("client.contoso.example")
        before = sorted(smtp.esmtp_features)
        auth_in_clear = reply(smtp.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()))
        starttls = reply(smtp.starttls(context=context))
        smtp.ehlo("client.contoso.example")
        after = sorted(smtp.esmtp_features)
        login = reply(smtp.login(USER, PASSWORD))  # smtplib picks PLAIN from what is offered
        raw = multipart_message(subject="Over TLS")
        smtp.sendmail(SENDER, [ACME], raw)
        cipher = smtp.sock.cipher()[0]
        return {"before": before, "auth_in_clear": auth_in_clear, "starttls": starttls, "after": after,
                "login": login, "cipher": cipher, "sent": base64.b64encode(raw).decode()}


def auth_required(port, cert):
    context = ssl.create_default_context(cafile=cert)
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        smtp.ehlo("client.contoso.example")
        smtp.starttls(context=context)
        smtp.ehlo("client.contoso.example")
        mail_unauthenticated = reply(smtp.mail(SENDER))
        try:
            smtp.login(USER, "wrong password")
            wrong = None
        except smtplib.SMTPAuthenticationError as error:
            wrong = [error.smtp_code, error.smtp_error.decode()]
        smtp.user, smtp.password = USER, PASSWORD
        login = reply(smtp.auth("LOGIN", smtp.auth_login, initial_response_ok=False))
        raw = multipart_message(subject="Authenticated")
        smtp.sendmail(SENDER, [ACME], raw)
        return {"mail_unauthenticated": mail_unauthenticated, "wrong": wrong, "login": login,
                "sent": base64.b64encode(raw).decode()}


def unknown_recipient(port, _cert):
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        smtp.ehlo("client.contoso.example")
        mail = reply(smtp.mail(SENDER))
        unknown = reply(smtp.rcpt("postmaster@elsewhere.example"))
        data_without = reply(smtp.docmd("DATA"))
        known = reply(smtp.rcpt(ACME))
        raw = multipart_message(subject="One good recipient")
        data = reply(smtp.data(raw))
        return {"mail": mail, "unknown": unknown, "data_without": data_without, "known": known, "data": data}


def oversize(port, _cert):
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        smtp.ehlo("client.contoso.example")
        advertised = smtp.esmtp_features.get("size")
        size_param = reply(smtp.mail(SENDER, ["SIZE=20000"]))
        rset = reply(smtp.rset())
        big = multipart_message(subject="Too big", filler=20000)
        try:
            smtp.sendmail(SENDER, [ACME], big)  # smtplib adds SIZE= itself
            sendmail_big = None
        except smtplib.SMTPSenderRefused as error:
            sendmail_big = [error.smtp_code, error.smtp_error.decode()]
        # Without SIZE= the limit is found while reading DATA.
        smtp.mail(SENDER)
        smtp.rcpt(ACME)
        data_big = reply(smtp.data(big))
        noop = reply(smtp.noop())
        small = multipart_message(subject="Small enough")
        smtp.sendmail(SENDER, [ACME], small)
        return {"advertised": advertised, "size_param": size_param, "rset": rset, "sendmail_big": sendmail_big, "data_big": data_big,
                "noop": noop, "sent": base64.b64encode(small).decode()}


def too_many_recipients(port, _cert):
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        smtp.ehlo("client.contoso.example")
        smtp.mail(SENDER)
        rcpts = [reply(smtp.rcpt(f"journal+acme{n}@tocsin.example"))[0] for n in range(5)]
        data = reply(smtp.data(multipart_message(subject="Many recipients")))
        return {"rcpts": rcpts, "data": data}


def line_too_long(port, _cert):
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        smtp.ehlo("client.contoso.example")
        at_limit = reply(smtp.docmd("NOOP", "y" * 500))  # 507 bytes with CRLF: allowed
        too_long = reply(smtp.docmd("NOOP", "x" * 5000))
        after = reply(smtp.noop())
        return {"at_limit": at_limit, "too_long": too_long, "after": after}


def dot_stuffing(port, _cert):
    body = (
        "From: a@contoso.example\r\nTo: b@clinic.example\r\nSubject: dots\r\n\r\n"
        ".leading dot\r\n..two dots\r\n.\r\n . space then dot\r\n...\r\nend.\r\n.\r\n"
        "last line without a dot\r\n"
    ).encode()
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        smtp.ehlo("client.contoso.example")
        smtp.sendmail(SENDER, [ACME], body)
        return {"sent": base64.b64encode(body).decode()}


def protocol(port, _cert):
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        early_mail = reply(smtp.docmd("MAIL", f"FROM:<{SENDER}>"))
        helo = reply(smtp.helo("old.client.example"))
        lhlo = reply(smtp.docmd("LHLO", "x"))
        rcpt_first = reply(smtp.docmd("RCPT", f"TO:<{ACME}>"))
        vrfy = reply(smtp.verify("someone"))
        unknown = reply(smtp.docmd("FROBNICATE"))
        bad_syntax = reply(smtp.docmd("MAIL", "FROM:bogus"))
        starttls = reply(smtp.docmd("STARTTLS"))
        smtp.mail(SENDER)
        nested = reply(smtp.docmd("MAIL", f"FROM:<{SENDER}>"))
        rset = reply(smtp.rset())
        null_sender = reply(smtp.mail(""))
        smtp.rcpt(ACME)
        temporary = reply(smtp.data(b"Subject: x\r\nX-Test-Reject: temporary\r\n\r\nbody\r\n"))
        noop = reply(smtp.noop())
        return {"early_mail": early_mail, "helo": helo, "lhlo": lhlo, "rcpt_first": rcpt_first, "vrfy": vrfy,
                "unknown": unknown, "bad_syntax": bad_syntax, "starttls": starttls, "nested": nested,
                "rset": rset, "null_sender": null_sender, "temporary": temporary, "noop": noop}


def too_many_errors(port, _cert):
    with smtplib.SMTP(HOST, port, timeout=10) as smtp:
        codes = [smtp.docmd("BOGUS")[0] for _ in range(10)]
        try:
            last = reply(smtp.docmd("NOOP"))
        except smtplib.SMTPServerDisconnected:
            last = ["disconnected", ""]
        return {"codes": codes, "last": last}


def sessions_full(port, _cert):
    with smtplib.SMTP(HOST, port, timeout=10) as first:
        first.ehlo("one.example")
        try:
            smtplib.SMTP(HOST, port, timeout=10)
            second = None
        except smtplib.SMTPConnectError as error:
            second = [error.smtp_code, error.smtp_error.decode()]
        still = reply(first.noop())
    # The slot is free again once the first session has ended.
    time.sleep(0.2)
    with smtplib.SMTP(HOST, port, timeout=10) as third:
        third_noop = reply(third.noop())
    return {"second": second, "still": still, "third": third_noop}


def idle_timeout(port, _cert):
    smtp = smtplib.SMTP(HOST, port, timeout=10)
    smtp.ehlo("sleepy.example")
    time.sleep(1.5)
    try:
        late = reply(smtp.noop())
    except smtplib.SMTPServerDisconnected:
        late = ["disconnected", ""]
    return {"late": late}


SCENARIOS = {fn.__name__: fn for fn in [
    plain_delivery, lmtp_two_recipients, starttls_plain_auth, auth_required, unknown_recipient, oversize,
    too_many_recipients, line_too_long, dot_stuffing, protocol, too_many_errors, sessions_full, idle_timeout,
]}

if __name__ == "__main__":
    scenario, port = sys.argv[1], int(sys.argv[2])
    cert = sys.argv[3] if len(sys.argv) > 3 else None
    print(json.dumps(SCENARIOS[scenario](port, cert)))
