"""A served process freezes its start-up heap, so the collector's passes under load walk only
what requests made (archsim/runtime/heap.py): checked on a real server process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

_APP = '''
import gc
from fastapi import FastAPI

app = FastAPI()


@app.get("/heap")
def heap() -> dict[str, int]:
    return {"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_served_app_starts_with_its_heap_frozen(tmp_path: Path) -> None:
    (tmp_path / "heapapp.py").write_text(_APP)
    port = _free_port()
    root = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", "archsim.runtime.serve", "heapapp:app", "--port", str(port)]
    env = {"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        body = None
        while body is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/heap", timeout=2).json()
            except httpx.TransportError:
                time.sleep(0.1)
        assert body is not None, proc.stderr.read().decode() if proc.poll() is not None else ""
        # FastAPI, pydantic and uvicorn alone leave tens of thousands of objects: all frozen,
        # and the collector's generations hold far fewer than that
        assert body["frozen"] > 10_000
        assert body["tracked"] < body["frozen"] / 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)
