"""Benchmark: ``archsim validate`` on a 1,000,000-link file, wall time and peak RSS (issue 17).

Usage: ``python benchmarks/bench_memory.py [--links 1000000] [--services 10000] [--timeout 300]``

The file is ``gen_architecture.generate_compact`` (services calling services in chains, each
storing in its own database: a million links fit the 10 MB input limit). Each measure is a
fresh process, as a user runs it; its peak RSS is its own ``ru_maxrss``. Baselines from the same
run: the interpreter with archsim imported and the text read (the floor), and the parse alone.
Targets: validate < 10 s and < 1.5 GB peak. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_architecture import generate_compact  # noqa: E402

__all__ = ["main"]

_TARGET_SECONDS, _TARGET_MB = 10.0, 1536.0

# What the child does: "floor" (import + read), "parse", or "validate" (the command itself).
_CHILD = """
import contextlib, io, json, os, resource, sys, time
what, path = sys.argv[1], sys.argv[2]
import archsim.cli.app
text = open(path, encoding="utf-8").read()
start = time.perf_counter()
if what == "parse":
    from archsim.model.dot import parse_dot
    parse_dot(text, path)
elif what == "validate":
    from archsim.cli.app import main
    sys.argv = ["archsim", "validate", path]
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), \\
            contextlib.redirect_stderr(null), contextlib.suppress(SystemExit):
        main()
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
print(json.dumps({"seconds": took, "peak_mb": peak}))
"""


def _measure(what: str, path: Path, timeout: float) -> dict[str, float] | None:
    """Seconds and peak MB of one fresh process, or None when it timed out."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, what, str(path)],
            capture_output=True, text=True, timeout=timeout, check=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--links", type=int, default=1_000_000)
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--timeout", type=float, default=300.0, help="per process (s)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "million.dot")
        path.write_text(generate_compact(args.services, args.links, seed=1), encoding="utf-8")
        size = path.stat().st_size
        print(f"input: {args.services:,} services + databases, {args.links:,} links, "
              f"{size / 1e6:.1f} MB")  # fmt: skip
        floor = _measure("floor", path, args.timeout)
        parse = _measure("parse", path, args.timeout)
        run = _measure("validate", path, args.timeout)
    for name, m in (("import + read (floor)", floor), ("parse only", parse)):
        print(f"  {name:24s}: " + ("timed out" if m is None else
              f"{m['seconds']:6.2f} s, peak {m['peak_mb']:7.0f} MB"))  # fmt: skip
    if run is None:
        print(f"  archsim validate        : timed out after {args.timeout:g} s")
        print("TARGETS MISSED")
        return 1
    print(f"  archsim validate        : {run['seconds']:6.2f} s, peak {run['peak_mb']:7.0f} MB"
          f"  (target < {_TARGET_SECONDS:g} s, < {_TARGET_MB:,.0f} MB)")  # fmt: skip
    if floor and parse:
        above = (run["peak_mb"] - floor["peak_mb"]) / max(parse["peak_mb"] - floor["peak_mb"], 1)
        print(f"  validate / parse        : {run['seconds'] / parse['seconds']:.1f}x the time, "
              f"{above:.1f}x the memory above the floor")  # fmt: skip
    ok = run["seconds"] < _TARGET_SECONDS and run["peak_mb"] < _TARGET_MB
    print("OK" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
