"""Cost as the architecture grows (issue 17): ``gen_architecture.generate(n, 4n)`` at 100, 400 and
1,600 components, each simulated at 200 req/s for 30 s (one replication, this process) and
solved analytically.

Per size the script prints requests, request-hops (operations run, summed over components) and
CPU seconds, then CPU time per request and per hop. The baseline is the smallest size in the
same run: the target is that CPU time per request grows at most linearly with the hops per
request, i.e. CPU time per hop of the whole run stays within ``--slack`` (1.5x) of the smallest
size's; and the analytic solve is under 1 s at 1,600 components (best of 3). Exits 1 when a
target is missed.

Beside the whole run, the same replication at (almost) no load: its CPU time is the fixed cost
of the size (compile, snapshots, collection, the background tasks' few hops), and the loaded
run's CPU time and hops minus the idle run's give the marginal cost per hop (``µs/hop+``),
which a longer run approaches. It is printed for reading the figures, not judged.

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

from archsim.model import Architecture, read_architecture
from archsim.sim import SimConfig, Workload
from archsim.sim.analytic import solve
from archsim.sim.engine import run_replication

SOLVE_LIMIT_S = 1.0


IDLE_RPS = 1e-9  # no request arrives within the run: what is left is the fixed cost


def simulate_once(arch: Architecture, rps: float, duration: float) -> tuple[int, int, float]:
    """(requests, request-hops, CPU seconds) of one replication at ``rps`` for ``duration``."""
    cfg = SimConfig(duration=duration, warmup=0.0, replications=1, bins=60)
    start = time.process_time()
    rec = run_replication(arch, Workload(rps=rps), cfg, 0)
    cpu = time.process_time() - start
    requests = sum(e["count"] for e in rec["entries"].values())
    hops = sum(c["completions"] for c in rec["components"].values())
    return requests, hops, cpu


def measure(n: int, rps: float, duration: float) -> tuple[int, int, float, float, int, float]:
    """(requests, request-hops, CPU seconds, analytic solve seconds, and the idle run's hops and
    CPU seconds) at ``n`` components."""
    arch = read_architecture(generate(n, 4 * n, seed=0), f"g{n}.dot").architecture
    requests, hops, cpu = simulate_once(arch, rps, duration)
    _, idle_hops, idle_cpu = simulate_once(arch, IDLE_RPS, duration)
    solve_s, _ = best_of(3, lambda: solve(arch, Workload(rps=rps)))
    return requests, hops, cpu, solve_s, idle_hops, idle_cpu


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; one line per size, then the verdict."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,400,1600")
    ap.add_argument("--rps", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--slack", type=float, default=1.5)
    args = ap.parse_args(argv)
    print(f"{'components':>10} {'requests':>9} {'hops/req':>8} {'CPU s':>7} "
          f"{'µs/req':>7} {'µs/hop':>7} {'solve ms':>9} {'idle s':>7} {'µs/hop+':>8}")  # fmt: skip
    base_hop: float | None = None
    base_marginal: float | None = None
    ok = True
    for n in (int(x) for x in args.sizes.split(",")):
        requests, hops, cpu, solve_s, idle_hops, idle_cpu = measure(n, args.rps, args.duration)
        per_req, per_hop = cpu / requests * 1e6, cpu / hops * 1e6
        marginal = (cpu - idle_cpu) / (hops - idle_hops) * 1e6
        base_hop = per_hop if base_hop is None else base_hop
        base_marginal = marginal if base_marginal is None else base_marginal
        linear = per_hop <= args.slack * base_hop
        fast = n < 1600 or solve_s < SOLVE_LIMIT_S
        ok &= linear and fast
        print(f"{n:>10,} {requests:>9,} {hops / requests:>8.2f} {cpu:>7.2f} {per_req:>7.0f} "
              f"{per_hop:>7.1f} {solve_s * 1e3:>9.0f} {idle_cpu:>7.2f} {marginal:>8.1f}"
              f"   x{per_hop / base_hop:.2f} (marginal x{marginal / base_marginal:.2f})"
              f"{'' if linear else '  (per hop over slack)'}"
              f"{'' if fast else '  (solve over 1 s)'}")  # fmt: skip
    print(f"target: µs/hop (whole run) within {args.slack}x of the smallest size's; "
          "solve < 1 s at 1,600")  # fmt: skip
    print("µs/hop+: (CPU - idle CPU) / (hops - idle hops), the cost per hop without the fixed "
          "cost of the size (shown, not judged)")  # fmt: skip
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
