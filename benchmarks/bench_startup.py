"""Benchmark: start-up of ``archsim simulate topology.dot`` as a whole process (issue 17).

Usage: ``python benchmarks/bench_startup.py [--repeat 5]``

Start-up is the imports the command needs before it reads the file: measured as the wall time
of a fresh interpreter that imports exactly the modules ``archsim simulate`` ends up with (found
by running the command once), minus a bare interpreter (``python -c pass``), best of
``--repeat``. Beside it, in the same run: the whole ``archsim simulate topology.dot`` process,
``archsim --version`` and the imports of ``archsim validate``. Target: start-up <= 0.3 s.
Exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "topology.dot"

__all__ = ["main"]

_TARGET_SECONDS = 0.3
_ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}

# Run a command in-process and print the top-level packages it imported.
_MODULES = """
import contextlib, io, sys
before = set(sys.modules)
from archsim.cli.app import main
sys.argv = ["archsim", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main()
print(" ".join(sorted(m for m in set(sys.modules) - before if not m.startswith("_"))))
"""


def _best(args: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=_ENV, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
    return best


def _imports_of(command: list[str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _MODULES, *command],
        capture_output=True, text=True, check=True, env=_ENV, cwd=ROOT,
    )  # fmt: skip
    modules = out.stdout.split()
    return "import " + ", ".join(modules)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    py = sys.executable
    bare = _best([py, "-c", "pass"], args.repeat)
    simulate = ["simulate", str(SEED)]
    sim_imports = _best([py, "-c", _imports_of(simulate)], args.repeat) - bare
    val_imports = _best([py, "-c", _imports_of(["validate", str(SEED)])], args.repeat) - bare
    version = _best([py, "-m", "archsim", "--version"], args.repeat)
    whole = _best([py, "-m", "archsim", *simulate], min(args.repeat, 3))
    print(f"bare interpreter (python -c pass)     : {bare:.3f} s")
    print(f"archsim --version (whole process)     : {version:.3f} s")
    print(f"imports of archsim validate           : {val_imports:.3f} s (beyond a bare python)")
    print(f"imports of archsim simulate (start-up): {sim_imports:.3f} s "
          f"(target <= {_TARGET_SECONDS} s)")  # fmt: skip
    print(f"archsim simulate topology.dot, whole  : {whole:.3f} s "
          f"(start-up {sim_imports / whole:.0%} of it)")  # fmt: skip
    ok = sim_imports <= _TARGET_SECONDS
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
