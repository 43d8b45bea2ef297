"""CPU per request against the offered rate, per process and for the whole host (issue 16, item 1).

    python benchmarks/cpu_by_rate.py RUNS_DIR [RUNS_DIR ...]

Reads every ``summary.json`` under the given directories (``bench_calibration.py --keep``,
``archsim loadtest --steps``), and prints, for each run sorted by its front-door rate: the busy
cores of the host (every process of the stack and the load generator), the host's CPU per
front-door request, the load generator's share, and each process's CPU per front-door request
in milliseconds, less the process's idle CPU (heartbeats, timers). No stack is started.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunCpu:
    """One run's CPU figures: rate (front-door requests/s), cores busy, ms per request."""

    name: str
    rate: float
    host_cores: float
    locust_ms: float
    per_process_ms: dict[str, float]

    @property
    def host_ms(self) -> float:
        """The host's CPU per front-door request (ms)."""
        return self.host_cores / self.rate * 1e3 if self.rate else 0.0


def run_cpu(path: Path) -> RunCpu | None:
    """The CPU figures of the run whose summary is at ``path``; None when it served nothing."""
    data = json.loads(path.read_text())
    window = data.get("window_s") or 1.0
    rate = data["total"]["requests"] / window
    if not rate:
        return None
    idle = data.get("idle_cpu") or {}
    per = {
        cid: max(0.0, c["cpu_s"] - idle.get(cid, 0.0) * window) / window / rate * 1e3
        for cid, c in data["components"].items()
    }
    locust = data.get("load_generator", {}).get("cpu_s", 0.0)
    cores = (sum(c["cpu_s"] for c in data["components"].values()) + locust) / window
    return RunCpu(path.parent.name, rate, cores, locust / window / rate * 1e3, per)


def main() -> int:
    """Print the table of every run found under the directories given."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", type=Path, help="run directories of one architecture")
    ap.add_argument("--top", type=int, default=6, help="processes shown (busiest first)")
    args = ap.parse_args()
    runs = [r for d in args.dirs for p in sorted(d.rglob("summary.json")) if (r := run_cpu(p))]
    if not runs:
        print("no summary.json with requests found", file=sys.stderr)
        return 1
    runs.sort(key=lambda r: r.rate)
    ids = {c for r in runs for c in r.per_process_ms}
    busiest = sorted(ids, key=lambda c: -sum(r.per_process_ms.get(c, 0.0) for r in runs))
    shown = busiest[: args.top]
    head = f"{'run':14} {'req/s':>7} {'cores':>6} {'host ms':>8} {'locust':>7} "
    print(head + " ".join(f"{c[:12]:>12}" for c in shown))
    for r in runs:
        cells = " ".join(f"{r.per_process_ms.get(c, 0.0):12.3f}" for c in shown)
        print(
            f"{r.name:14} {r.rate:7.1f} {r.host_cores:6.2f} {r.host_ms:8.3f} "
            f"{r.locust_ms:7.3f} {cells}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
