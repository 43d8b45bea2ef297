"""Serve an ASGI app the way every generated service is served: uvicorn, one worker, uvloop +
httptools, no access log (metrics and structured logs replace it), graceful shutdown. A
generated service (an app carrying ``state.runtime``) is served through ``Runtime.front()``.

``python -m archsim_runtime.serve services.order_service.app:app --port 8001``
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from uvicorn.importer import import_from_string

__all__ = ["SERVER_SETTINGS", "main"]

#: The server settings of every service (the benchmark serves its baseline with the same).
SERVER_SETTINGS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "log_config": None,
    "lifespan": "on",
    "timeout_graceful_shutdown": 5,
    "backlog": 2048,
    "proxy_headers": False,  # nothing sits in front that we trust with X-Forwarded-*
    "server_header": False,
}


def main(argv: list[str] | None = None) -> None:
    """Run ``APP`` (``module:attribute``) on ``--host``/``--port`` until SIGTERM."""
    parser = argparse.ArgumentParser(prog="archsim_runtime.serve")
    parser.add_argument("app", help="import string, module:attribute")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = import_from_string(args.app)
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    if runtime is not None:  # a generated service: serve its fast path in front of FastAPI
        app = runtime.front()
    uvicorn.run(app, host=args.host, port=args.port, **SERVER_SETTINGS)


if __name__ == "__main__":
    main()
