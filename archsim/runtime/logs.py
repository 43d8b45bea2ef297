"""Structured logs: one JSON object per line with service, instance, request id and trace id."""

from __future__ import annotations

import json
import logging
import sys
import time

from .context import current_request_id, current_traceparent

__all__ = ["JsonFormatter", "configure_logging"]


class JsonFormatter(logging.Formatter):
    """Format records as JSON lines; the request context is added when there is one."""

    def __init__(self, service: str, instance: str) -> None:
        super().__init__()
        self.service = service
        self.instance = instance

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": round(record.created, 6),
            "level": record.levelname.lower(),
            "service": self.service,
            "instance": self.instance,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid, parent = current_request_id(), current_traceparent()
        if rid:
            entry["request_id"] = rid
        if parent:
            entry["trace_id"] = parent.split("-")[1] if parent.count("-") == 3 else parent
            entry["traceparent"] = parent
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(
    service: str, instance: str, level: str = "INFO", requests: bool = False
) -> logging.Logger:
    """Send every log record of this process to stderr as JSON lines; returns the service
    logger. ``requests`` adds one access line per request (costly under load: off by default)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service, instance))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn installs its own handlers; route them through ours so every line is JSON.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiohttp.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = requests or not name.endswith("access")
    logging.Formatter.converter = time.gmtime
    return logging.getLogger(service)
