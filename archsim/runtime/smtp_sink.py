"""A real SMTP server that keeps what it receives, with an HTTP API to read it.

``python -m archsim_runtime.smtp_sink --smtp-port 2525 --port 8025 --store mail.jsonl``;
``GET /messages`` lists messages (oldest first), ``DELETE /messages`` empties the sink.
A message whose Message-ID it already holds is accepted and not stored again, as an idempotent
mail API treats a repeated idempotency key: a sender's retry is not a second e-mail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["Sink", "main"]


class Sink:
    """aiosmtpd handler: parses each message and appends it to memory and a JSON-lines file."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.messages: list[dict[str, Any]] = []
        if store is not None and store.exists():
            self.messages = [json.loads(line) for line in store.read_text().splitlines() if line]
        self.message_ids = {m["headers"].get("Message-ID") for m in self.messages} - {None}
        self.repeats = 0  # messages received again (same Message-ID) and not stored

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        message_id = parsed.get("Message-ID")
        if message_id is not None and str(message_id) in self.message_ids:
            self.repeats += 1
            return "250 Message accepted for delivery (already delivered)"
        if message_id is not None:
            self.message_ids.add(str(message_id))
        record = {
            "id": len(self.messages) + 1,
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(parsed.get("Subject", "")),
            "body": body.get_content() if body is not None else "",
            "headers": {k: str(v) for k, v in parsed.items()},
            "received_at": time.time(),
        }
        self.messages.append(record)
        if self.store is not None:
            with self.store.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def make_sink_app(sink: Sink) -> web.Application:
    """The HTTP side: list and clear messages."""

    async def messages(request: web.Request) -> web.Response:
        return web.json_response(
            {"count": len(sink.messages), "repeats": sink.repeats, "messages": sink.messages}
        )

    async def clear(request: web.Request) -> web.Response:
        sink.messages.clear()
        sink.message_ids.clear()
        if sink.store is not None:
            sink.store.write_text("")
        return web.Response(status=204)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/messages", messages)
    app.router.add_delete("/messages", clear)
    app.router.add_get("/health", health)
    return app


async def _serve(host: str, smtp_port: int, http_port: int, store: Path | None) -> None:
    sink = Sink(store)
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(sink, hostname="sink.local"), host, smtp_port)
    runner = web.AppRunner(make_sink_app(sink))
    await runner.setup()
    await web.TCPSite(runner, host, http_port).start()
    try:
        await asyncio.Event().wait()
    finally:
        smtp.close()
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Serve SMTP on ``--smtp-port`` and the HTTP API on ``--port`` until SIGTERM."""
    parser = argparse.ArgumentParser(prog="archsim_runtime.smtp_sink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.smtp_port, args.port, args.store))


if __name__ == "__main__":
    main()
