"""``archsim analyze``: design smells with fixes, blast radius, SPOFs and critical paths."""

from __future__ import annotations

import gc
import sys
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from archsim.cli.common import (
    EXIT_FINDINGS,
    console,
    err_console,
    handle_errors,
    load_or_exit,
    print_diagnostics,
    print_json,
)
from archsim.errors import Diagnostic, Severity
from archsim.model.quantities import format_duration

# The analysis core (and networkx under it) is imported inside the command: importing it here
# would cost every archsim command ~0.3 s of start-up.
if TYPE_CHECKING:
    from archsim.analysis import AnalysisReport, Finding

__all__ = ["register"]

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
#: Up to this many findings (or entries) every one is printed; past it the table summarises.
_MANY = 50
#: How many critical paths a summarised report shows (the slowest entries).
_SLOWEST = 10


class FailOn(StrEnum):
    """Lowest severity that makes ``archsim analyze`` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NEVER = "never"


def _rule_ids() -> list[str]:
    from archsim.analysis import RULES

    return [r.id for r in RULES]


def _rules(values: list[str], option: str) -> frozenset[str]:
    from archsim.analysis.findings import parse_rule_list

    return frozenset().union(*(parse_rule_list(v, _rule_ids(), option) for v in values))


@handle_errors
def analyze_command(
    file: Annotated[
        Path | None, typer.Argument(help="Architecture file (Graphviz DOT).", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    fail_on: Annotated[
        FailOn, typer.Option(help="Exit 1 when a finding is at least this severe.")
    ] = FailOn.ERROR,
    disable: Annotated[
        list[str], typer.Option(help="Switch rules off (repeat or comma-separate).")
    ] = [],  # noqa: B006 - Typer reads the default; it is never mutated
    enable: Annotated[
        list[str], typer.Option(help="Switch rules on again (beats the file's analyze_disable).")
    ] = [],  # noqa: B006
    severity: Annotated[
        list[str], typer.Option(help="Re-grade rules: RULE=error|warning|info (repeatable).")
    ] = [],  # noqa: B006
    blast: Annotated[
        str | None,
        typer.Option(help="Show which entry routes fail or degrade when COMPONENT is down."),
    ] = None,
    max_chain_depth: Annotated[
        int | None, typer.Option(min=1, help="Longest synchronous call chain allowed [3].")
    ] = None,
    paths: Annotated[bool, typer.Option(help="Show the critical path of each entry.")] = True,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help=f"Print every finding and critical path (past {_MANY}, the table summarises).",
        ),
    ] = False,
    per_rule: Annotated[
        int, typer.Option(min=1, help="Findings shown per rule when the table summarises.")
    ] = 5,
    list_rules: Annotated[bool, typer.Option(help="List the rules and exit.")] = False,
) -> None:
    """Check an architecture for design risks: single points of failure and blast radius,
    sync cycles and deep chains, hubs, shared databases, bypassed gateway, unprotected calls to
    externals, orphan events, inconsistent config/registry use, unreachable components; and
    the critical path of each entry. Exit 1 when a finding reaches --fail-on.

    Past 50 findings the table shows a count per rule and the first --per-rule of each
    (--all prints every one); --json always has all of them.

    Example: archsim analyze topology.dot --blast order_db
    """
    from archsim.analysis import AnalysisConfig, analyze, parse_levels

    if list_rules:
        _print_rules(as_json)
        return
    if file is None:
        raise typer.BadParameter("missing FILE (or use --list-rules)", param_hint="FILE")
    config = AnalysisConfig(
        disable=_rules(disable, "--disable"),
        enable=_rules(enable, "--enable"),
        severity=parse_levels(severity, _rule_ids(), "--severity"),
        max_chain_depth=max_chain_depth,
    )
    loaded = load_or_exit(file, quiet=True)
    if not as_json:
        _print_load_warnings(loaded.diagnostics, file, show_all=show_all)
    # Nothing loaded so far becomes garbage: keep the collector from re-scanning the model's
    # hundreds of thousands of objects while analysis allocates (0.1-0.7 s at 2,000
    # components); unfrozen afterwards for callers that live on (tests).
    gc.freeze()
    try:
        report = analyze(loaded.architecture, config)
        if blast is not None:
            # An unknown component raises ScenarioError (exit 2 with a 'did you mean').
            if as_json:
                _write_json(report.to_json_bytes(blast_of=blast))
            else:
                _print_blast(report, blast)
            return
        if as_json:
            _write_json(report.to_json_bytes())
        else:
            _print_report(report, paths, show_all=show_all, per_rule=per_rule)
    finally:
        gc.unfreeze()
    if fail_on is not FailOn.NEVER and report.at_or_above(Severity(fail_on.value)):
        raise typer.Exit(EXIT_FINDINGS)


def _print_rules(as_json: bool) -> None:
    from archsim.analysis import RULES

    if as_json:
        print_json([{"rule": r.id, "severity": r.severity.value, "title": r.title,
                     "source": r.source, "why": r.why, "fix": r.fix} for r in RULES])  # fmt: skip
        return
    table = Table(title="analysis rules", title_justify="left", expand=False)
    table.add_column("rule", no_wrap=True)
    for col in ("severity", "what", "catalogue"):
        table.add_column(col)
    for r in RULES:
        table.add_row(r.id, Text(r.severity.value, _STYLE[r.severity]), r.title, r.source)
    console.print(table)


def _print_load_warnings(diagnostics: Sequence[Diagnostic], file: Path, *, show_all: bool) -> None:
    """The loader's warnings, the first ``_MANY`` of them unless ``show_all``."""
    shown = [d for d in diagnostics if d.severity is not Severity.INFO]
    if show_all or len(shown) <= _MANY:
        print_diagnostics(shown)
        return
    print_diagnostics(shown[:_MANY])
    err_console.print(
        f"[dim]{len(shown) - _MANY:,} more warnings not shown "
        f"(--all prints them; so does: archsim validate {escape(str(file))})[/]"
    )


def _write_json(data: bytes) -> None:
    """The same text print_json writes, built by the analysis without the stdlib's slow
    pure-Python indenting encoder (tens of MB for thousands of components)."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text-only stdout (some test harnesses)
        sys.stdout.write(data.decode("utf-8") + "\n")
        return
    sys.stdout.flush()
    out.write(data)
    out.write(b"\n")
    out.flush()


def _print_report(report: AnalysisReport, paths: bool, *, show_all: bool, per_rule: int) -> None:
    """Findings, critical paths and a count line; past ``_MANY`` findings (unless ``show_all``)
    a count per rule and the first ``per_rule`` findings of each."""
    from archsim.analysis.findings import SEVERITY_RANK

    findings = list(report.findings)
    summarise = not show_all and len(findings) > _MANY
    if summarise:
        _print_counts(report)
        findings = _first_of_each_rule(findings, per_rule)
    if findings:
        n = len(report.findings)
        title = f"{report.architecture}: {n} finding{'s' * (n != 1)}"
        if summarise:
            title = (
                f"{report.architecture}: first {per_rule} findings of each rule "
                f"({len(findings):,} of {n:,})"
            )
        console.print(_findings_table(findings, title))
    if summarise:
        console.print(
            f"[dim]{len(report.findings) - len(findings):,} more findings not shown "
            "(--all prints them; --json has all of them)[/]"
        )
    if paths and report.critical_paths:
        _print_paths(report, show_all=show_all)
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in SEVERITY_RANK}
    summary = ", ".join(f"{n:,} {s.value}{'s' * (n != 1)}" for s, n in reversed(counts.items()))
    disabled = f" (disabled: {', '.join(report.disabled)})" if report.disabled else ""
    n = len(report.findings)
    console.print(f"{n:,} finding{'s' * (n != 1)}: {summary}{disabled}")


def _first_of_each_rule(findings: list[Finding], n: int) -> list[Finding]:
    """The first ``n`` findings of each rule, in report order."""
    shown: Counter[str] = Counter()
    out = []
    for f in findings:
        shown[f.rule] += 1
        if shown[f.rule] <= n:
            out.append(f)
    return out


def _print_counts(report: AnalysisReport) -> None:
    counts = Counter((f.rule, f.severity) for f in report.findings)  # report order: worst first
    n = len(report.findings)
    table = Table(title=f"{report.architecture}: {n:,} findings by rule", title_justify="left")
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("findings", justify="right")
    for (rule_id, sev), count in counts.items():
        table.add_row(Text(sev.value, _STYLE[sev]), rule_id, f"{count:,}")
    console.print(table)


def _findings_table(findings: list[Finding], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("finding, why it matters, fix", ratio=1)
    said: set[str] = set()
    for f in findings:
        body = Text()
        body.append(f.message)
        if f.why not in said:  # a rule's reason once, not on each of its findings
            said.add(f.why)
            body.append(f"\nwhy: {f.why}", "dim")
        body.append(f"\nfix: {f.fix}", "green")
        table.add_row(Text(f.severity.value, _STYLE[f.severity]), f.rule, body)
    return table


def _print_paths(report: AnalysisReport, *, show_all: bool) -> None:
    """Every entry's critical path; past ``_MANY`` entries (unless ``show_all``) the slowest."""
    shown = list(report.critical_paths)
    title = "critical path of each entry (unloaded, from mean service times)"
    if not show_all and len(shown) > _MANY:
        shown = sorted(shown, key=lambda p: p.expected, reverse=True)[:_SLOWEST]
        title = (
            f"critical path of the {_SLOWEST} slowest of {len(report.critical_paths):,} entries "
            "(unloaded, from mean service times)"
        )
    table = Table(title=title, title_justify="left")
    table.add_column("entry", no_wrap=True)
    table.add_column("share", justify="right")
    table.add_column("expected", justify="right")
    table.add_column("critical path (time incl. callees)", ratio=1)
    for p in shown:
        hops = " → ".join(
            f"{h.component}.{h.operation.split('__')[-1]} {format_duration(h.expected)}"
            for h in p.path
        )
        table.add_row(p.entry, f"{p.weight:.1%}", format_duration(p.expected), hops)
    console.print(table)
    if len(shown) < len(report.critical_paths):
        left = len(report.critical_paths) - len(shown)
        console.print(
            f"[dim]{left:,} more entries not shown (--all prints them; --json has all of them)[/]"
        )


def _print_blast(report: AnalysisReport, component: str) -> None:
    b = report.blast.of(component)
    table = Table(title=f"blast radius of {component}", title_justify="left")
    table.add_column("entry route", no_wrap=True)
    table.add_column("effect")
    for entry in b.fails:
        table.add_row(entry, Text("fails", "bold red"))
    for entry in b.degrades:
        table.add_row(entry, Text("degrades", "yellow"))
    if b.fails or b.degrades:
        console.print(table)
        console.print(f"{len(b.fails)} fail, {len(b.degrades)} degrade: {b.why}")
    else:
        console.print(f"no entry route depends on {component}")


def register(app: typer.Typer) -> None:
    """Add ``archsim analyze`` to the CLI."""
    app.command("analyze")(analyze_command)
