"""Simulation speed on the seed: end-to-end requests and request-hops per wall-clock second in
one process, against a bare SimPy M/M/1 loop (process per customer, ``simpy.Resource``)
measured in the same run.

Targets: >= 60,000 simulated end-to-end requests per CPU second (issue 17; 43,500 before it),
and request-hops/s >= 0.5x the bare loop's customers/s (issue 3). Both figures are CPU time of
this process (``time.process_time``): on a shared 2-core machine the wall clock also measures
the neighbours. Exits 1 when a target is missed.

    python benchmarks/bench_sim.py [--rps 400] [--duration 300]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import simpy

from archsim.model import load
from archsim.sim import SimConfig, Workload
from archsim.sim.engine import run_replication

SEED = Path(__file__).resolve().parent.parent / "topology.dot"
TARGET_RPS, TARGET_RATIO = 60_000, 0.5


def bare_mm1(customers: int, lam: float = 80.0, mu: float = 100.0) -> float:
    """Customers per CPU second of the textbook SimPy M/M/1 (process per customer)."""
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    rng = random.Random(1)
    done = [0]

    def customer() -> simpy.events.ProcessGenerator:
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(mu))
        done[0] += 1

    def source() -> simpy.events.ProcessGenerator:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer())

    env.process(source())
    start = time.process_time()
    env.run()
    return done[0] / (time.process_time() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rps", type=float, default=400.0)
    parser.add_argument("--duration", type=float, default=300.0)
    args = parser.parse_args()
    arch = load(SEED).architecture
    cfg = SimConfig(duration=args.duration, warmup=0.0, replications=1, bins=60)
    run_replication(arch, Workload(rps=args.rps), SimConfig(duration=5.0, warmup=0.0), 99)
    start, cpu0 = time.perf_counter(), time.process_time()
    rec = run_replication(arch, Workload(rps=args.rps), cfg, 0)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    requests = sum(e["count"] for e in rec["entries"].values())
    hops = sum(c["completions"] for c in rec["components"].values())
    rps, hops_s = requests / cpu, hops / cpu
    baseline = bare_mm1(200_000)
    ratio = hops_s / baseline
    print(
        f"seed at {args.rps:g} req/s for {args.duration:g}s simulated: {requests:,} requests, "
        f"{hops:,} request-hops in {cpu:.2f}s CPU ({wall:.2f}s wall)"
    )
    print(f"  end-to-end requests/s : {rps:,.0f}   (target >= {TARGET_RPS:,}; 43,500 before)")
    print(f"  request-hops/s        : {hops_s:,.0f}   ({hops / requests:.2f} hops per request)")
    print(f"  bare SimPy M/M/1 loop : {baseline:,.0f} customers/s")
    print(f"  ratio hops/s / bare   : {ratio:.2f}x  (target >= {TARGET_RATIO}x)")
    ok = rps >= TARGET_RPS and ratio >= TARGET_RATIO
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
