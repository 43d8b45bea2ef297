"""Benchmark: architectures from ``gen_architecture.py``, as drawn and with p<1 on every link of a
possible cycle, end to end.

Usage: ``python benchmarks/bench_cycles.py [--sizes 20,100,400,1600] [--timeout 120]``

For each size (components; links = 4 per component, as in issue 18):

* **as generated** (every step p=1; the generator draws no call cycle or event loop since issue
  14, so validate should accept it): ``archsim validate`` either refuses the file with a
  located error naming a cycle (exit 2), or ``archsim simulate --rps 2 --duration 10s``
  must finish (both run as a user would, in a fresh process, with a timeout);
* **with p<1 on the cycles** (every ``calls`` and ``publishes to`` link given ``p="0.1"``, so
  its loops end): validate must accept it, the analytic solve alone is timed in this process
  (best of 3; must be < 1 s at 1,600 components), and ``simulate --rps 2 --duration 10s
  --method both`` in a fresh process must finish.

Exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_architecture import generate  # noqa: E402
from timing import best_of  # noqa: E402

from archsim.model import read_architecture  # noqa: E402
from archsim.sim.analytic import solve  # noqa: E402
from archsim.sim.workload import Workload  # noqa: E402

_P = re.compile(r'\[label="(calls|publishes to)"')


def _cli(args: list[str], timeout: float) -> tuple[int | None, float, str]:
    """Run ``archsim`` in a fresh process: (exit code or None on timeout, seconds, stderr)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "from archsim.cli import main; main()", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        )
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start, ""
    return proc.returncode, time.perf_counter() - start, proc.stderr


def _first_error(stderr: str) -> str:
    return next((ln for ln in stderr.splitlines() if ": error: " in ln), stderr.strip()[:200])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print one block per size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20,100,400,1600")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            text = generate(n, 4 * n, seed=0)
            raw = Path(tmp, f"g{n}.dot")
            raw.write_text(text)
            print(f"== {n} components / {4 * n} links")
            rc, secs, err = _cli(["validate", str(raw)], args.timeout)
            if rc == 2 and ("cycle" in err or "loop" in err):
                print(f"  as generated: validate refuses it in {secs:.1f}s: {_first_error(err)}")
            elif rc == 0:
                rc2, secs2, _ = _cli(
                    ["simulate", str(raw), "--rps", "2", "--duration", "10s"], args.timeout
                )
                ok = rc2 == 0
                failed |= not ok
                print(f"  as generated: valid; simulate {'ok' if ok else 'FAILED'} "
                      f"(exit {rc2}) in {secs2:.1f}s")  # fmt: skip
            else:
                failed = True
                print(f"  as generated: validate exit {rc} in {secs:.1f}s: {_first_error(err)}")
            damped = Path(tmp, f"g{n}-p.dot")
            damped.write_text(_P.sub(r'[label="\1", p="0.1"', text))
            arch = read_architecture(damped.read_text(), str(damped)).architecture
            ops = len(arch.behaviour.operations)
            solve_s, out = best_of(3, lambda a=arch: solve(a, Workload(rps=2.0)))
            over = n >= 1600 and solve_s >= 1.0
            failed |= over
            print(f"  p=0.1 on calls/publishes: valid, {ops} operations; analytic solve "
                  f"{solve_s * 1000:.0f} ms{' (OVER 1 s)' if over else ''}")  # fmt: skip
            rc3, secs3, err3 = _cli(
                ["simulate", str(damped), "--rps", "2", "--duration", "10s", "--method", "both"],
                args.timeout,
            )
            failed |= rc3 != 0
            print(f"  p=0.1: simulate --method both exit {rc3} in {secs3:.1f}s"
                  + ("" if rc3 == 0 else f": {_first_error(err3)}"))  # fmt: skip
            del out
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
