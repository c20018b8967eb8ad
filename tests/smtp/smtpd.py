#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) on 127.0.0.1 for Haoyuan's tests.

Usage:
    python3 tests/smtp/smtpd.py --port 0 --mode plain|starttls|tls \
        [--cert CERT.pem --key KEY.pem] [--auth USER:PASS] [--reject-rcpt SUBSTR] \
        [--out FILE]

- ``--port 0`` picks a free port; a fixed port lets a test stop the server and start
  it again on the same port ("server down, then up").
- ``--mode plain``: no TLS at all. ``starttls``: STARTTLS offered and required before
  MAIL (530 otherwise). ``tls``: TLS from the first byte (SMTPS). TLS modes need
  ``--cert`` and ``--key`` (PEM).
- ``--auth USER:PASS``: AUTH (PLAIN/LOGIN) required before MAIL; in starttls mode AUTH
  is only offered after STARTTLS.
- ``--reject-rcpt SUBSTR``: ``550`` for every recipient containing SUBSTR.
- ``--out FILE``: one JSON line appended (and flushed) per accepted message with
  ``message_id``, ``x_haoyuan_id``, ``mail_from``, ``rcpt_tos``, ``subject`` (decoded),
  ``has_text``, ``has_html``, ``text``, ``html``, ``session`` (a number per TCP
  connection: equal numbers mean the connection was reused), ``tls``, ``auth_user``
  and ``received_at`` (unix ms).

Prints one line ``{"port": N}`` on stdout once it listens; exits 0 on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import signal
import ssl
import sys
import time
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:  # pragma: no cover - told plainly, the test shows stderr
    sys.stderr.write("smtpd.py: the Python package aiosmtpd is missing "
                     "(pip install aiosmtpd, or run scripts/setup.sh)\n")
    sys.exit(3)


def parse_args(argv):
    p = argparse.ArgumentParser(description="A real SMTP server for tests (aiosmtpd).")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", help="USER:PASS; AUTH becomes required")
    p.add_argument("--reject-rcpt", default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.mode != "plain" and not (args.cert and args.key):
        p.error(f"--mode {args.mode} needs --cert and --key")
    if args.auth is not None and ":" not in args.auth:
        p.error("--auth must be USER:PASS")
    return args


def part_texts(msg):
    """The decoded text/plain and text/html bodies of a message (first of each)."""
    text = html = None
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and text is None:
            text = part.get_content()
        elif ctype == "text/html" and html is None:
            html = part.get_content()
    return text, html


class Handler:
    """Accepts messages, refuses some recipients, records what it accepted."""

    def __init__(self, args):
        self.args = args
        self.queued = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.reject_rcpt and self.args.reject_rcpt in address:
            return "550 5.1.1 Recipient address rejected: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if not self.args.out:
            # Nothing to record (benchmarks): accept without parsing.
            return f"250 OK queued as {next(self.queued)}"
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text, html = part_texts(msg)
        auth_user = None
        if isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", "replace")
        record = {
            "message_id": msg.get("Message-ID"),
            "x_haoyuan_id": msg.get("X-Haoyuan-Id"),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(msg.get("Subject", "")),
            "has_text": text is not None,
            "has_html": html is not None,
            "text": text,
            "html": html,
            "session": getattr(server, "haoyuan_session", None),
            "tls": self.args.mode == "tls" or session.ssl is not None,
            "auth_user": auth_user,
            "received_at": int(time.time() * 1000),
        }
        if self.args.out:
            with open(self.args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
        return f"250 OK queued as {next(self.queued)}"


def make_authenticator(user, password):
    want = (user.encode(), password.encode())

    def authenticator(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == want:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    return authenticator


def tls_context(args):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = Handler(args)
    sessions = itertools.count(1)
    ctx = tls_context(args) if args.mode != "plain" else None

    kwargs = {"hostname": "haoyuan-test-smtpd", "loop": loop}
    if args.mode == "starttls":
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.auth is not None:
        user, _, password = args.auth.partition(":")
        kwargs.update(
            authenticator=make_authenticator(user, password),
            auth_required=True,
            # aiosmtpd only knows TLS it started itself (STARTTLS): on SMTPS the
            # connection is TLS from the start, and in plain mode there is none.
            auth_require_tls=args.mode == "starttls",
        )

    def factory():
        smtp = SMTP(handler, **kwargs)
        smtp.haoyuan_session = next(sessions)
        return smtp

    server = await loop.create_server(
        factory, host="127.0.0.1", port=args.port,
        ssl=ctx if args.mode == "tls" else None, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # aiosmtpd warns that AUTH without TLS is unsafe: intended in plain mode.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
