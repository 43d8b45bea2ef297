"""A load test stopped from outside (SIGTERM: ``timeout``, a CI runner, ``kill``) stops its
Locust too, instead of leaving it loading the stack after archsim has gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = """digraph Tiny {
    web [label="Web Service"];
    web_db [label="Web Store", shape="cylinder"];
    web -> web_db [label="stores in"];
}
"""


def _archsim(cwd: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "archsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip


def _locusts(locustfile: Path) -> list[int]:
    """Live processes whose command line names ``locustfile``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "locust" in cmdline and str(locustfile) in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for Locust's process")
def test_sigterm_stops_the_load_test_and_its_locust(tmp_path: Path) -> None:
    (tmp_path / "tiny.dot").write_text(TINY)
    assert _archsim(tmp_path, "generate", "tiny.dot", "-o", "shop").returncode == 0
    up = _archsim(tmp_path, "up", "shop")
    assert up.returncode == 0, up.stderr
    out = tmp_path / "run"
    try:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen(
            [sys.executable, "-m", "archsim", "loadtest", "shop", "--rps", "20",
             "--duration", "60s", "--warmup", "1s", "-o", str(out)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not list(out.glob("started-*.json")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        assert _locusts(out / "locustfile.py"), "Locust never started"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=40)
        assert proc.returncode == 130, stderr
        assert "interrupted" in stderr
        assert "Traceback" not in stderr
        deadline = time.monotonic() + 15
        while _locusts(out / "locustfile.py") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _locusts(out / "locustfile.py"), "Locust outlived the load test"
    finally:
        _archsim(tmp_path, "down", "shop")
