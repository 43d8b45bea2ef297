"""Benchmark: the long run of the command contract (issue 18) — whatever ``validate`` accepts,
every command's core runs.

Usage: ``python benchmarks/bench_fuzz_commands.py [--cases 20000] [--seed 18] [--out DIR]``

Cases alternate between architectures generated from scratch and statement-level mutations of
the project's own files (topology.dot, tests/analysis_corpus, tests/sim_models,
tests/stack_models); see tests/command_fuzz.py. Every accepted model goes through analyze,
render (scene parsed back, DOT output), the analytic solver (open and closed), a 1 s
simulation (open and closed) and code generation (every generated module parsed); every 25th
also through a tiny sweep and plan. Each case runs under a 10 s alarm.

Prints the number of cases, how many validate accepted, the commands run, the unhandled
exceptions (grouped by type and place; each first case is written to ``--out``) and the cases
over 10 s. Exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import collections
import random
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from command_fuzz import CORPUS, drive, generate, mutate  # noqa: E402

LIMIT_S = 10.0


class _Overtime(Exception):
    pass


def _alarm(signum, frame):  # type: ignore[no-untyped-def]
    raise _Overtime


def main(argv: list[str] | None = None) -> int:
    """Run the cases; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--out", type=Path, default=Path("fuzz-failures"))
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, _alarm)
    bugs: collections.Counter[str] = collections.Counter()
    ran: collections.Counter[str] = collections.Counter()
    slow: list[tuple[int, float]] = []
    accepted = clear = 0
    longest = 0.0
    start = time.perf_counter()
    for i in range(args.cases):
        text = generate(rng, most=12) if i % 2 else mutate(rng, rng.choice(CORPUS), steps=4)
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
        try:
            outcome = drive(text, seed=i, heavy=i % 25 == 0)
            accepted += not outcome.refused
            ran.update(outcome.ran)
            clear += len(outcome.clear_errors)
        except _Overtime:
            slow.append((i, time.perf_counter() - t0))
            _keep(args.out, f"slow-{i}", text)
        except Exception as exc:  # the bugs this run looks for
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            key = f"{type(exc).__name__}: {str(exc)[:100]} at {Path(tb.filename).name}:{tb.lineno}"
            if key not in bugs:
                _keep(
                    args.out, f"bug-{len(bugs)}", text + "\n/*\n" + traceback.format_exc() + "*/\n"
                )
            bugs[key] += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        longest = max(longest, time.perf_counter() - t0)
        if (i + 1) % 1000 == 0:
            print(
                f"  {i + 1} cases, {time.perf_counter() - start:.0f}s, "
                f"{sum(bugs.values())} unhandled, {len(slow)} over {LIMIT_S:g}s",
                flush=True,
            )
    total = time.perf_counter() - start
    print(
        f"cases: {args.cases} (seed {args.seed}) in {total:.0f}s; accepted by validate: "
        f"{accepted}; clear errors from commands: {clear}; longest case {longest:.2f}s"
    )
    print("commands run: " + ", ".join(f"{k} {v}" for k, v in sorted(ran.items())))
    print(f"unhandled exceptions: {sum(bugs.values())}")
    for key, count in bugs.most_common():
        print(f"  {count} × {key}")
    print(f"cases over {LIMIT_S:g}s: {len(slow)}" + (f" {slow[:10]}" if slow else ""))
    return 1 if bugs or slow else 0


def _keep(out: Path, name: str, text: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.dot").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
