"""Cost as the architecture grows (issue 17): ``gen_architecture.generate(n, 4n)`` at 100, 400 and
1,600 components, each simulated at 200 req/s for 30 s (one replication, this process) and
solved analytically.

Per size the script prints requests, request-hops (operations run, summed over components) and
CPU seconds, then CPU time per request and per hop. The baseline is the smallest size in the
same run: the target is that CPU time per request grows at most linearly with the hops per
request, i.e. CPU time per hop stays within ``--slack`` (1.5x) of the smallest size's; and the
analytic solve is under 1 s at 1,600 components (best of 3). Exits 1 when a target is missed.

    python benchmarks/bench_growth.py [--sizes 100,400,1600] [--rps 200] [--duration 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_architecture import generate
from timing import best_of

from archsim.model import read_architecture
from archsim.sim import SimConfig, Workload
from archsim.sim.analytic import solve
from archsim.sim.engine import run_replication

SOLVE_LIMIT_S = 1.0


def measure(n: int, rps: float, duration: float) -> tuple[int, int, float, float]:
    """(requests, request-hops, simulation CPU seconds, analytic solve seconds) at ``n``."""
    arch = read_architecture(generate(n, 4 * n, seed=0), f"g{n}.dot").architecture
    cfg = SimConfig(duration=duration, warmup=0.0, replications=1, bins=60)
    start = time.process_time()
    rec = run_replication(arch, Workload(rps=rps), cfg, 0)
    cpu = time.process_time() - start
    requests = sum(e["count"] for e in rec["entries"].values())
    hops = sum(c["completions"] for c in rec["components"].values())
    solve_s, _ = best_of(3, lambda: solve(arch, Workload(rps=rps)))
    return requests, hops, cpu, solve_s


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; one line per size, then the verdict."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,400,1600")
    ap.add_argument("--rps", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--slack", type=float, default=1.5)
    args = ap.parse_args(argv)
    print(f"{'components':>10} {'requests':>9} {'hops/req':>8} {'CPU s':>7} "
          f"{'µs/req':>7} {'µs/hop':>7} {'solve ms':>9}")  # fmt: skip
    base_hop: float | None = None
    ok = True
    for n in (int(x) for x in args.sizes.split(",")):
        requests, hops, cpu, solve_s = measure(n, args.rps, args.duration)
        per_req, per_hop = cpu / requests * 1e6, cpu / hops * 1e6
        base_hop = per_hop if base_hop is None else base_hop
        linear = per_hop <= args.slack * base_hop
        fast = n < 1600 or solve_s < SOLVE_LIMIT_S
        ok &= linear and fast
        print(f"{n:>10,} {requests:>9,} {hops / requests:>8.2f} {cpu:>7.2f} {per_req:>7.0f} "
              f"{per_hop:>7.1f} {solve_s * 1e3:>9.0f}"
              f"{'' if linear else '  (per hop over slack)'}"
              f"{'' if fast else '  (solve over 1 s)'}")  # fmt: skip
    print(f"target: µs/hop within {args.slack}x of the smallest size's; solve < 1 s at 1,600")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
