"""Benchmark: load a 2,000-component / 10,000-link architecture (parse + validate + derive)
beside pydot parsing the same text, in one run.

Usage: ``python benchmarks/bench_load.py [--quick] [--repeat N] [--no-pydot]``
Targets (issue 2): archsim loads in < 1 s and >= 10x faster than ``pydot.graph_from_dot_data``.
Exits 1 when a target is missed. Absolute times are noisy here; the ratio is measured in one run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_architecture import generate
from timing import best_of

from archsim.model import read_architecture
from archsim.model.dot import parse_dot

__all__ = ["main"]

_TARGET_SECONDS = 1.0
_TARGET_RATIO = 10.0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 components / 1,000 links")
    parser.add_argument("--repeat", type=int, default=5, help="archsim runs (best is kept)")
    parser.add_argument("--no-pydot", action="store_true", help="skip pydot (no ratio)")
    args = parser.parse_args(argv)
    n, m = (200, 1000) if args.quick else (2000, 10000)
    text = generate(n, m, seed=1)
    result = read_architecture(text)
    arch = result.architecture
    print(f"input: {n:,} components, {m:,} links, {len(text):,} characters")
    print(
        f"model: {len(arch.components):,} components, {len(arch.links):,} links, "
        f"{len(arch.behaviour.operations):,} operations, {len(arch.behaviour.entries):,} entries, "
        f"{len(result.diagnostics):,} diagnostics"
    )
    parse = best_of(args.repeat, lambda: parse_dot(text))[0]
    load = best_of(args.repeat, lambda: read_architecture(text))[0]
    print(f"archsim parse only:                 {parse:.3f} s (best of {args.repeat})")
    print(f"archsim parse + validate + derive:  {load:.3f} s (best of {args.repeat})")
    ok = args.quick or load < _TARGET_SECONDS
    if not args.no_pydot:
        import pydot

        theirs = best_of(1, lambda: pydot.graph_from_dot_data(text))[0]
        ratio = theirs / load
        print(f"pydot.graph_from_dot_data:          {theirs:.3f} s (once, parse only)")
        print(f"ratio (pydot parse / archsim load): {ratio:.1f}x (target >= {_TARGET_RATIO:g}x)")
        ok = ok and ratio >= _TARGET_RATIO
    if not args.quick:
        verdict = "met" if load < _TARGET_SECONDS else "MISSED"
        print(f"target load < {_TARGET_SECONDS:g} s: {verdict}")
    print("OK" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
