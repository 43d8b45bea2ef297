"""Sweep speed on the seed: 20 load levels × 5 replications with the sweep's defaults (5 s
simulated per replication, 1 s warm-up), run in this process (1 worker) and on a local process
pool of 2 workers, in the same run.

Targets (issue 7): the 2-worker sweep finishes in under 60 s, and is >= 1.7x faster than
1 worker; both give identical results. Exits 1 when a target is missed.

    python benchmarks/bench_sweep.py [--levels 100..2000:step=100] [--replications 5] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from archsim.capacity import open_executor, parse_axis, sweep
from archsim.model import load
from archsim.sim import SimConfig, Workload

SEED = Path(__file__).resolve().parent.parent / "topology.dot"
TARGET_SECONDS, TARGET_RATIO = 60.0, 1.7


def _spin(n: int) -> int:
    x = 0
    for k in range(n):
        x += k
    return x


def _parallelism(jobs: int) -> float:
    """Speed-up of a pure CPU loop on ``jobs`` processes: what this machine gives right now
    (other sessions' load lowers it; the sweep cannot beat it)."""
    from concurrent.futures import ProcessPoolExecutor

    work = [4_000_000] * (2 * jobs)
    start = time.perf_counter()
    for n in work:
        _spin(n)
    serial = time.perf_counter() - start
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_spin, work[:jobs]))  # start the workers outside the timing
        start = time.perf_counter()
        list(pool.map(_spin, work))
        return serial / (time.perf_counter() - start)


def _timed(jobs: int, args: argparse.Namespace) -> tuple[float, dict]:
    arch = load(SEED).architecture
    axis = parse_axis("rps", args.levels)
    cfg = SimConfig(duration=5.0, warmup=1.0, replications=args.replications, seed=1)
    with open_executor(jobs=jobs) as backend:
        start = time.perf_counter()
        result = sweep(arch, axis, Workload(), cfg, backend.executor)
        elapsed = time.perf_counter() - start
    return elapsed, result.to_dict()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="100..2000:step=100")
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    levels = len(parse_axis("rps", args.levels).values)
    print(f"seed sweep: {levels} levels x {args.replications} replications, 5 s simulated each")
    spin = _parallelism(args.jobs)
    print(f"  machine: a bare CPU loop speeds up {spin:.2f}x on {args.jobs} processes")
    serial, a = _timed(1, args)
    print(f"  1 worker : {serial:6.1f} s")
    parallel, b = _timed(args.jobs, args)
    ratio = serial / parallel
    print(f"  {args.jobs} workers: {parallel:6.1f} s   speed-up {ratio:.2f}x")
    print(f"  knee: {b['knee']['note']}")
    print(f"  machine after: a bare CPU loop speeds up {_parallelism(args.jobs):.2f}x")
    failed = []
    if parallel >= TARGET_SECONDS:
        failed.append(
            f"{args.jobs}-worker sweep took {parallel:.1f} s (target < {TARGET_SECONDS:g} s)"
        )
    if ratio < TARGET_RATIO:
        failed.append(f"speed-up {ratio:.2f}x (target >= {TARGET_RATIO}x)")
    if a != b:
        failed.append("results differ between 1 and 2 workers")
    for line in failed:
        print(f"MISSED: {line}")
    print("ok: all targets met" if not failed else "")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
