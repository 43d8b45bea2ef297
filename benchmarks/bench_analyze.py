"""Benchmark: ``archsim analyze`` on a generated 2,000-component / 10,000-link architecture.

Usage: ``python benchmarks/bench_analyze.py [--quick] [--repeat N]``

Times what a user waits for, best of N each (the machine is shared, so the best run is the
one least disturbed):

* the whole command, as a user runs it: ``archsim analyze big.dot --json > out.json`` and the
  Rich table ``archsim analyze big.dot > out.txt``, each in a fresh process (interpreter
  start-up, imports, load, analysis, output);
* the baseline, in the same run: a fresh process that imports the CLI and loads the file
  (what any command on this file costs; not analysis);
* the command's phases in this process: load, analyze, ``to_dict``, the JSON text as UTF-8 (and, for
  comparison, ``json.dumps(indent=2)`` of the same document, checked to be identical), and
  the table.

Exits 1 when either command takes 3 s or more (full size only).
"""

from __future__ import annotations

import argparse
import functools
import gc
import io
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_architecture import generate
from timing import best_of

from archsim.analysis import AnalysisReport, analyze
from archsim.cli import analyze_commands, common
from archsim.model import load

__all__ = ["main"]

_TARGET_SECONDS = 3.0
_EDGE = re.compile(r"^\s*(\S+) -> (\S+) \[label=\"([^\"]+)\"[^\]]*\];$", re.MULTILINE)
_CLI = "from archsim.cli import main; main()"
_LOAD_ONLY = "import sys, archsim.cli.app; from archsim.model import load; load(sys.argv[1])"


def _text_with_links(n: int, links: int, seed: int) -> str:
    """Generated DOT with at least ``links`` distinct links (the generator repeats some)."""
    asked = links
    while True:
        text = generate(n, asked, seed=seed)
        if len(set(_EDGE.findall(text))) >= links:
            return text
        asked = int(asked * 1.1) + 1


def _run(args: list[str], out: Path) -> float:
    """Wall time of one fresh process, stdout and stderr to files (as ``> out 2> err``)."""
    with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, *args], stdout=stdout, stderr=stderr).returncode
        took = time.perf_counter() - t0
    if code not in (0, 1):  # 1: findings at --fail-on, which a generated model has
        raise SystemExit(f"{' '.join(args)} exited {code}; see {out.with_suffix('.err')}")
    return took


def _table(report: AnalysisReport) -> str:
    """The command's table output (80 columns, no colour), rendered into a string."""
    buffer = io.StringIO()
    saved = common.console.file
    common.console.file = buffer  # the CLI's one console: render what the command prints
    try:
        analyze_commands._print_report(report, True, show_all=False, per_rule=5)
    finally:
        common.console.file = saved
    return buffer.getvalue()


def _phases(path: Path, repeat: int) -> dict[str, float]:
    """Best time of each phase of the command, in this process (seconds)."""
    best: dict[str, float] = {}

    def clock(name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        result = fn()
        best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
        return result

    for _ in range(repeat):
        arch = clock("load", lambda: load(path).architecture)
        gc.freeze()  # as the command does after loading
        report = clock("analyze", functools.partial(analyze, arch))
        doc = clock("to_dict", report.to_dict)
        data = clock("JSON text", report.to_json_bytes)
        clock("table", functools.partial(_table, report))
        gc.unfreeze()
    stdlib = clock("json.dumps", lambda: json.dumps(doc, indent=2, ensure_ascii=False))
    if stdlib.encode("utf-8") != data:
        raise SystemExit("to_json_bytes() differs from json.dumps(to_dict(), indent=2)")
    print(
        f"model: {len(arch.components):,} components, {len(arch.links):,} links, "
        f"{len(arch.behaviour.operations):,} operations, {len(arch.behaviour.entries):,} "
        f"entry routes; {len(report.findings):,} findings, JSON {len(data) / 1e6:.0f} MB"
    )
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 components / 1,000 links")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement (best kept)")
    args = ap.parse_args(argv)
    n, m = (200, 1000) if args.quick else (2000, 10000)
    with tempfile.TemporaryDirectory(prefix="bench_analyze_") as tmp:
        path = Path(tmp) / "big.dot"
        path.write_text(_text_with_links(n, m, seed=1))
        phases = _phases(path, args.repeat)
        print(f"phases in one process (best of {args.repeat}):")
        for name, took in phases.items():
            print(f"  {name:<11} {took:6.2f} s")
        base, _ = best_of(
            args.repeat, lambda: _run(["-c", _LOAD_ONLY, str(path)], Path(tmp) / "load.txt")
        )
        as_json, _ = best_of(
            args.repeat,
            lambda: _run(["-c", _CLI, "analyze", str(path), "--json"], Path(tmp) / "out.json"),
        )
        table, _ = best_of(
            args.repeat, lambda: _run(["-c", _CLI, "analyze", str(path)], Path(tmp) / "out.txt")
        )
    print(f"baseline (fresh process: start-up, imports, load): {base:.2f} s")
    print(f"archsim analyze --json: {as_json:.2f} s ({as_json / base:.1f}x the baseline)")
    print(f"archsim analyze (table): {table:.2f} s ({table / base:.1f}x the baseline)")
    ok = args.quick or max(as_json, table) < _TARGET_SECONDS
    print(f"target: whole command < {_TARGET_SECONDS:g} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
