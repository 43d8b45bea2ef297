"""Benchmark: archsim's DOT parser against pydot on a generated architecture.

Usage: ``python benchmarks/bench_parse.py [--quick] [--repeat N]``
Exits 1 when the targets are missed: archsim parse <= 0.3 s (full size) and >= 10x pydot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_architecture import generate
from timing import best_of

from archsim.model.dot import parse_dot

__all__ = ["main"]

_TARGET_SECONDS = 0.3
_TARGET_RATIO = 10.0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 components / 1,000 links")
    ap.add_argument("--repeat", type=int, default=5, help="archsim runs (best is kept)")
    ap.add_argument("--no-pydot", action="store_true", help="skip pydot (no ratio check)")
    args = ap.parse_args(argv)
    n, m = (200, 1000) if args.quick else (2000, 10000)
    text = generate(n, m, seed=1)
    doc = parse_dot(text)
    graph = doc.graphs[0]
    assert len(graph.nodes) == n and len(graph.edges) == m, "generator/parser disagree"
    ours = best_of(args.repeat, lambda: parse_dot(text))[0]
    print(f"input: {n:,} components, {m:,} links, {len(text):,} characters")
    print(f"archsim parse_dot: {ours:.3f} s (best of {args.repeat})")
    ok = args.quick or ours <= _TARGET_SECONDS
    if not args.no_pydot:
        import pydot

        theirs = best_of(1, lambda: pydot.graph_from_dot_data(text))[0]
        ratio = theirs / ours
        print(f"pydot graph_from_dot_data: {theirs:.3f} s (once)")
        print(f"ratio: {ratio:.1f}x faster (target >= {_TARGET_RATIO:.0f}x)")
        ok = ok and ratio >= _TARGET_RATIO
    if not args.quick:
        verdict = "met" if ours <= _TARGET_SECONDS else "MISSED"
        print(f"target: parse <= {_TARGET_SECONDS} s -> {verdict}")
    print("OK" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
