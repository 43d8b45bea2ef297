"""archsim against ciw on the same Jackson network (tests/sim_models/tandem.dot: three
single-server stations in series, Poisson arrivals at 80/s, exponential service 8, 6, 5 ms).

Both run the same replications (same simulated time) in this process; the script prints each
tool's mean response time and utilisation with 95% CIs, the exact Jackson values, and
simulated customers per CPU second (``time.process_time``: the machine is shared). Targets: the
CIs overlap and contain the exact value, and archsim is at least 3.5x faster (issue 17; 1.5x in
issue 3, 2.73x before issue 17). Exits 1 when a target is missed.

    python benchmarks/bench_ciw.py [--duration 500] [--replications 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ciw

from archsim.model import load
from archsim.sim import SimConfig, Workload
from archsim.sim.engine import run_replication
from archsim.sim.stats import confidence_interval

MODEL = Path(__file__).resolve().parent.parent / "tests" / "sim_models" / "tandem.dot"
LAM, SERVICES = 80.0, (0.008, 0.006, 0.005)
WARMUP = 20.0
TARGET = 3.5  # archsim customers/s over ciw's


def run_ciw(duration: float, seed: int) -> tuple[int, float, list[float]]:
    """(customers, mean response time s, utilisation per station) of one ciw replication."""
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(LAM), None, None],
        service_distributions=[ciw.dists.Exponential(1 / s) for s in SERVICES],
        routing=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
        number_of_servers=[1, 1, 1],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(duration)
    arrived: dict[int, float] = {}
    left: dict[int, float] = {}
    busy = [0.0, 0.0, 0.0]
    for r in sim.get_all_records():
        if r.node == 1:
            arrived[r.id_number] = r.arrival_date
        if r.node == 3:
            left[r.id_number] = r.exit_date
        if r.service_start_date >= WARMUP:
            busy[r.node - 1] += r.service_time
    times = [left[i] - arrived[i] for i in left if i in arrived and arrived[i] >= WARMUP]
    window = duration - WARMUP
    return len(left), sum(times) / len(times), [b / window for b in busy]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=500.0)
    parser.add_argument("--replications", type=int, default=5)
    args = parser.parse_args()
    arch = load(MODEL).architecture
    cfg = SimConfig(duration=args.duration, warmup=WARMUP, lifecycle=False)
    exact = sum(1 / (1 / s - LAM) for s in SERVICES)

    ours, ours_util, ours_n, ours_wall = [], [], 0, 0.0
    for i in range(args.replications):
        start = time.process_time()
        rec = run_replication(arch, Workload(rps=LAM), cfg, i)
        ours_wall += time.process_time() - start
        (entry,) = rec["entries"].values()
        ours.append(entry["sum"] / entry["count"])
        ours_n += entry["count"]  # after warm-up only (ciw counts all): conservative
        ours_util.append(rec["components"]["a"]["busy_area"] / rec["window"])
    theirs, theirs_util, theirs_n, theirs_wall = [], [], 0, 0.0
    for i in range(args.replications):
        start = time.process_time()
        n, mean, util = run_ciw(args.duration, 1000 + i)
        theirs_wall += time.process_time() - start
        theirs.append(mean)
        theirs_util.append(util[0])
        theirs_n += n
    (m1, h1), (m2, h2) = confidence_interval(ours), confidence_interval(theirs)
    (u1, g1), (u2, g2) = confidence_interval(ours_util), confidence_interval(theirs_util)
    speed_ours, speed_ciw = ours_n / ours_wall, theirs_n / theirs_wall
    print(f"Jackson tandem, {args.replications} replications x {args.duration:g}s simulated")
    print(
        f"  exact mean response time : {exact * 1e3:.3f} ms; "
        f"utilisation of a: {LAM * SERVICES[0]:.3f}"
    )
    print(
        f"  archsim                  : {m1 * 1e3:.3f} ± {h1 * 1e3:.3f} ms; util {u1:.4f} ± {g1:.4f}"
    )
    print(
        f"  ciw                      : {m2 * 1e3:.3f} ± {h2 * 1e3:.3f} ms; util {u2:.4f} ± {g2:.4f}"
    )
    print(f"  archsim customers/s      : {speed_ours:,.0f}")
    print(f"  ciw customers/s          : {speed_ciw:,.0f}")
    print(f"  speed-up                 : {speed_ours / speed_ciw:.2f}x  (target >= {TARGET}x)")
    agree = abs(m1 - m2) <= h1 + h2 and abs(m1 - exact) <= h1 and abs(m2 - exact) <= h2
    agree = agree and abs(u1 - u2) <= g1 + g2
    fast = speed_ours >= TARGET * speed_ciw
    print(f"  answers agree within CIs : {'yes' if agree else 'NO'}")
    print("PASS" if agree and fast else "FAIL")
    return 0 if agree and fast else 1


if __name__ == "__main__":
    sys.exit(main())
