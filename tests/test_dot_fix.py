"""fix_dot: the repair of '//' comments that swallowed the rest of their line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archsim.errors import DotSyntaxError
from archsim.model.dot import fix_dot, parse_dot

ROOT = Path(__file__).resolve().parent.parent
SEED = Path("/work/shared/seeds/000_39e9822b3a60f704.txt")


def test_seed_is_repaired_with_every_statement_and_comment():
    text = SEED.read_text()
    fixed, changes = fix_dot(text, "seed.txt")
    assert changes == [
        "1:37: the '//' comment swallowed 46 statements; "
        "split into 14 comment lines and 46 statement lines"
    ]
    g = parse_dot(fixed).graphs[0]
    assert sum(n.declared for n in g.nodes.values()) == 17 and len(g.edges) == 29
    # every attribute of the original text survives (same key="value" pairs, same order)
    pairs = re.compile(r'(\w+)="([^"]*)"')
    assert pairs.findall(fixed) == pairs.findall(text)
    comments = re.findall(r"// ([^/]+?) (?=\w+ (?:\[|->))", text)
    assert [ln.strip()[3:] for ln in fixed.splitlines() if ln.strip().startswith("//")] == comments
    assert fixed == (ROOT / "topology.dot").read_text()


def test_fixed_seed_layout():
    fixed, _ = fix_dot(SEED.read_text())
    lines = fixed.splitlines()
    assert lines[:3] == [
        "digraph MicroservicesArchitecture {",
        "    // API Gateway",
        '    api_gateway [label="API Gateway", type="application", shape="box"];',
    ]
    assert "    // API Gateway to Services" in lines
    assert '    api_gateway -> user_service [label="routes to"];' in lines
    assert lines[-1] == "}"


def test_well_formed_file_is_unchanged():
    text = "digraph {\n    // fine\n    a -> b;\n}\n"
    assert fix_dot(text) == (text, [])


def test_ports_keywords_and_multi_line_files():
    text = (
        "digraph {\n"
        "    a;\n"
        '    // Ports first a:p:n -> b:q [x="y"] // Defaults node [shape=box]; c\n'
        "}\n"
    )
    fixed, changes = fix_dot(text)
    assert fixed == (
        "digraph {\n"
        "    a;\n"
        "    // Ports first\n"
        '    a:p:n -> b:q [x="y"]\n'
        "    // Defaults\n"
        "    node [shape=box];\n"
        "    c\n"
        "}\n"
    )
    assert len(changes) == 1 and changes[0].startswith("3:5:")


def test_subgraphs_inside_the_swallowed_text_are_indented():
    text = "digraph { // Data x -> y; subgraph cluster_a { label=A; p; } // Tail q -> x; }"
    fixed, _ = fix_dot(text)
    assert fixed.splitlines() == [
        "digraph {",
        "    // Data",
        "    x -> y;",
        "    subgraph cluster_a {",
        "        label=A;",
        "        p;",
        "    }",
        "    // Tail",
        "    q -> x;",
        "}",
    ]


@pytest.mark.parametrize(
    ("text", "reason", "col"),
    [
        ("digraph { // Cluster subgraph c { a } }", "a '{' statement start", 33),
        ("digraph { // a -> b; }", "commented out on purpose", 14),
        ("digraph { // end; a -> b; }", "DOT punctuation ';'", 17),
        ("digraph { // the end }", "DOT punctuation '}'", 22),
        ("digraph { // -> b; }", "no words before '->'", 14),
        ("digraph { // Note graph = x; }", "keyword 'graph' before '='", 19),
    ],
)
def test_ambiguous_splits_are_refused(text, reason, col):
    with pytest.raises(DotSyntaxError) as info:
        fix_dot(text, "f.dot")
    err = info.value
    assert err.code == "unfixable" and reason in err.message
    assert err.message.startswith("cannot repair the '//' comment at 1:11")
    assert (err.location.line, err.location.col) == (1, col)
