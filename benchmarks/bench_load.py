"""Benchmark: load a 2,000-component / 10,000-link architecture (parse + validate + derive)
beside pydot parsing the same text, in one run.

Usage: ``python benchmarks/bench_load.py [--quick] [--repeat N] [--no-pydot]``
Targets: archsim loads in < 0.3 s (issue 17; was < 1 s in issue 2) and >= 10x faster than
``pydot.graph_from_dot_data``. Exits 1 when a target is missed. Absolute times are noisy here;
the ratio is measured in one run. The generated file has call cycles and event loops every
request takes, which validate refuses (after deriving everything): that refusal is the load
measured, as ``archsim validate`` would run it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_architecture import generate
from timing import best_of

from archsim.errors import InvalidModelError
from archsim.model import LoadResult, read_architecture
from archsim.model.dot import parse_dot

__all__ = ["main"]

_TARGET_SECONDS = 0.3


def _load(text: str) -> LoadResult | InvalidModelError:
    """Parse, validate and derive: the result, or the refusal (cycles of the generated file)."""
    try:
        return read_architecture(text)
    except InvalidModelError as exc:
        return exc
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
    result = _load(text)
    print(f"input: {n:,} components, {m:,} links, {len(text):,} characters")
    if isinstance(result, InvalidModelError):
        errors = [d for d in result.diagnostics if d.severity.value == "error"]
        print(f"model: refused, {len(errors)} errors ({errors[0].code}), "
              f"{len(result.diagnostics):,} diagnostics")  # fmt: skip
    else:
        arch = result.architecture
        print(
            f"model: {len(arch.components):,} components, {len(arch.links):,} links, "
            f"{len(arch.behaviour.operations):,} operations, "
            f"{len(arch.behaviour.entries):,} entries, {len(result.diagnostics):,} diagnostics"
        )
    parse = best_of(args.repeat, lambda: parse_dot(text))[0]
    load = best_of(args.repeat, lambda: _load(text))[0]
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
