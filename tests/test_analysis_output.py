"""What ``archsim analyze`` prints for big reports (summary, ``--all``, ``--per-rule``), the JSON
text and the graph helpers the fast paths rely on."""

from __future__ import annotations

import json
import random
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from archsim.analysis import analyze
from archsim.analysis.jsontext import dumps_indented, encode_indented
from archsim.analysis.opgraph import groups_callees_first
from archsim.cli import app
from archsim.model import load

runner = CliRunner()
SEED = Path(__file__).resolve().parent.parent / "topology.dot"
SERVICES = 30


def _many_dot(duplicates: int = 0) -> str:
    """30 services behind a replicated gateway, each with its own single-replica database and
    an unprotected call to one external: 30 SPOF + 30 wobbly-interaction findings, 92 entries
    (90 routes, and the auth service's sign-up and login: rule auth.accounts).
    ``duplicates`` repeats one link that many times (one loader warning each)."""
    lines = [
        "digraph Many {",
        '    lb [label="Load Balancer", kind="load_balancer", replicas="2"];',
        '    gateway [label="API Gateway", kind="gateway", replicas="2"];',
        '    auth [label="Auth Service", kind="auth", replicas="2"];',
        '    mailer [label="Email Provider", kind="external"];',
        '    lb -> gateway [label="distributes to"];',
        '    gateway -> auth [label="validates with"];',
    ]
    for i in range(SERVICES):
        lines += [
            f'    svc_{i} [label="Service {i}", kind="service"];',
            f'    db_{i} [label="Database {i}", kind="database"];',
            f'    gateway -> svc_{i} [label="routes to"];',
            f'    svc_{i} -> db_{i} [label="stores in"];',
            f'    svc_{i} -> mailer [label="sends via"];',
        ]
    lines += ['    svc_0 -> db_0 [label="stores in"];'] * duplicates
    return "\n".join([*lines, "}"]) + "\n"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("many") / "many.dot"
    path.write_text(_many_dot())
    return path


def _shown(output: str) -> int:
    """Findings rows in the table: each finding's text ends with one 'fix:' line."""
    return output.count("fix: ")


def test_many_findings_print_a_summary_and_the_first_five_of_each_rule(many: Path) -> None:
    result = runner.invoke(app, ["analyze", str(many)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Many: 60 findings by rule" in out
    assert "first 5 findings of each rule (10 of 60)" in out
    assert _shown(out) == 10
    assert "db_4 (database)" in out and "db_5 (database)" not in out
    assert "50 more findings not shown" in out
    # 92 entries: the 10 slowest critical paths, and how many were left out.
    assert "critical path of the 10 slowest of 92 entries" in out
    assert "82 more entries not shown" in out
    assert out.rstrip().endswith("60 findings: 0 errors, 60 warnings, 0 infos")


def test_per_rule_and_all(many: Path) -> None:
    two = runner.invoke(app, ["analyze", str(many), "--per-rule", "2"]).output
    assert _shown(two) == 4 and "56 more findings not shown" in two
    every = runner.invoke(app, ["analyze", str(many), "--all"]).output
    assert _shown(every) == 60
    assert "findings by rule" not in every and "not shown" not in every
    assert "critical path of each entry" in every
    assert all(f"db_{i} (database)" in every for i in range(SERVICES))


def test_json_always_has_every_finding(many: Path) -> None:
    data = json.loads(runner.invoke(app, ["analyze", str(many), "--json"]).stdout)
    assert len(data["findings"]) == 60
    assert len(data["critical_paths"]) == 92


def test_the_seed_is_not_summarised() -> None:
    out = runner.invoke(app, ["analyze", str(SEED)]).output
    assert "findings by rule" not in out and "not shown" not in out
    assert _shown(out) == 16
    assert out == runner.invoke(app, ["analyze", str(SEED), "--all"]).output


def test_many_loader_warnings_are_capped_unless_all(tmp_path: Path) -> None:
    path = tmp_path / "dup.dot"
    path.write_text(_many_dot(duplicates=60))
    capped = runner.invoke(app, ["analyze", str(path)]).output
    assert capped.count("duplicate link") == 50
    assert "10 more warnings not shown" in capped
    every = runner.invoke(app, ["analyze", str(path), "--all"]).output
    assert every.count("duplicate link") == 60


def test_blast_radius_of_each_database_is_its_own_service(many: Path) -> None:
    report = analyze(load(many).architecture)
    entries = [e.id for e in load(many).architecture.behaviour.entries]
    for i in (0, 7, SERVICES - 1):
        blast = report.blast.of(f"db_{i}")
        # Reasoned from the graph: only svc_i stores in db_i, so exactly svc_i's routes fail.
        assert set(blast.fails) == {e for e in entries if f"/svc_{i}s" in e}
        assert blast.degrades == ()
    assert set(report.blast.of("gateway").fails) == set(entries)


def test_to_json_is_the_text_json_dumps_writes(many: Path) -> None:
    for path, component in ((SEED, "order_db"), (many, "db_0")):
        report = analyze(load(path).architecture)
        assert report.to_json() == json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
        assert report.to_json(component) == json.dumps(
            report.to_dict(component), indent=2, ensure_ascii=False
        )
        assert report.to_json_bytes() == report.to_json().encode("utf-8")


@pytest.mark.parametrize(
    "doc",
    [
        {},
        [],
        {"a": [], "b": {}, "c": [1, "x", None, True, False, 1.5, 1e-05, 10**30, -0.0]},
        ["é ü", 'quote " and \\ and \n', ("tuple", 2), [[]], [{}], [["a", "b"], ["c"]]],
        {2: 2, 1.5: 3, True: 4, False: 0, None: 5, "path": Path("/x")},
        [float("nan"), float("inf"), -float("inf"), Path("a"), "b"],
        "just a string",
    ],
)
def test_dumps_indented_matches_json_dumps(doc: object) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=str)
    assert dumps_indented(doc) == text
    assert encode_indented(doc) == text.encode("utf-8")


@pytest.mark.parametrize("seed", range(8))
def test_groups_callees_first_match_networkx(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    graph = nx.gnm_random_graph(n, rng.randint(0, 3 * n), seed=seed, directed=True)
    graph.add_edges_from((v, v) for v in range(n) if rng.random() < 0.05)  # self-calls
    succ = {v: list(graph.successors(v)) for v in graph}
    groups = groups_callees_first(succ)
    assert sorted(map(sorted, groups)) == sorted(
        map(sorted, nx.strongly_connected_components(graph))
    )
    position = {v: i for i, group in enumerate(groups) for v in group}
    # Callees first: every edge leaving a group goes to a group listed before it.
    assert all(position[v] <= position[u] for u, v in graph.edges)
