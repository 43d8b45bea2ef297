"""Bad architectures get every problem reported at once, with position and hint."""

from __future__ import annotations

import pytest

from archsim.errors import DotSyntaxError, InvalidModelError, Severity
from archsim.model import read_architecture


def _errors(text: str) -> list:
    with pytest.raises((InvalidModelError, DotSyntaxError)) as info:
        read_architecture(text, "t.dot")
    return [d for d in info.value.diagnostics if d.severity is Severity.ERROR]


def test_unknown_relation_suggests_the_closest():
    (err,) = _errors('digraph g {\n a -> b [label="rotues to"];\n}')
    assert "unknown relation 'rotues to'" in err.message
    assert err.hint == "did you mean 'routes to'?"
    assert (err.location.line, err.location.col) > (2, 0)


@pytest.mark.parametrize("label", ["routes_to", "Routes To", "routes-to", "ROUTES  TO"])
def test_relation_spelling_variants_are_accepted(label):
    arch = read_architecture(f'digraph g {{ gw -> svc [label="{label}"]; }}').architecture
    assert arch.links[0].relation.value == "routes_to"


def test_edge_to_an_undeclared_node_is_a_phantom_with_a_suggestion():
    text = (
        "digraph g {\n"
        ' user_service [label="Users"];\n'
        ' user_db [label="DB"];\n'
        ' user_servce -> user_db [label="stores in"];\n'
        "}\n"
    )
    (err,) = _errors(text)
    assert "'user_servce', which is never declared" in err.message
    assert err.hint == "did you mean 'user_service'?"
    assert err.location.line == 4


def test_files_made_only_of_edges_declare_nodes_implicitly():
    arch = read_architecture('digraph g { a -> b [label="calls"]; }').architecture
    assert {c.id for c in arch.components} == {"a", "b"}


def test_conflicting_duplicate_declarations_name_both_places():
    text = 'digraph g {\n a [label="A", replicas=2];\n a [label="B"];\n a -> a [label="calls"];\n}'
    (err,) = _errors(text)
    assert "declared again" in err.message and "first declared at 2:2" in err.message
    assert err.location.line == 3


def test_invalid_attribute_values_are_all_reported_with_locations():
    text = (
        "digraph g {\n"
        ' a [service_time="5", workers=0, replicas=-1, error_rate=1.5];\n'
        ' b [service_time="lognormal(5ms)"];\n'
        ' a -> b [label="calls", p=2, timeout="fast"];\n'
        "}\n"
    )
    errors = _errors(text)
    messages = " | ".join(e.message for e in errors)
    assert len(errors) == 7, messages
    assert "has no unit" in messages
    assert "workers" in messages and "replicas" in messages and "error_rate" in messages
    assert "needs 'cv'" in messages
    assert "invalid p on a -> b" in messages and "invalid timeout on a -> b" in messages
    assert all(e.hint for e in errors)
    assert [e.location.line for e in errors] == sorted(e.location.line for e in errors)


def test_a_chain_reports_its_bad_or_misspelt_attributes_once_per_edge():
    # the edges of one statement share its attributes, read once when they are fine
    text = (
        "digraph g {\n"
        ' a -> b -> c [label="calls", p=2];\n'
        ' a -> c -> d [label="calls", tiemout="1s"];\n'
        ' b -> d -> e [label="calls", p=0.5];\n'
        "}\n"
    )
    with pytest.raises(InvalidModelError) as info:
        read_architecture(text)
    found = [(d.severity, d.message) for d in info.value.diagnostics if d.location.line in (2, 3)]
    assert found == [
        (Severity.ERROR, "invalid p on a -> b: probability 2 is outside [0, 1]"),
        (Severity.ERROR, "invalid p on b -> c: probability 2 is outside [0, 1]"),
        (Severity.WARNING, "unknown attribute 'tiemout' on a -> c is ignored"),
        (Severity.WARNING, "unknown attribute 'tiemout' on c -> d is ignored"),
    ]


def test_a_chain_reports_its_unknown_relation_once_per_edge():
    # the relation of a statement is read once for its edges, unless it is reported
    text = 'digraph g {\n a -> b -> c [relation="rotues to"];\n c -> d -> e [label="calls"];\n}'
    found = [e.message for e in _errors(text)]
    assert found == [
        "unknown relation 'rotues to' on a -> b",
        "unknown relation 'rotues to' on b -> c",
    ]


def test_a_repeated_edge_is_checked_per_edge_when_its_reading_is_shared():
    # the same attributes in several statements are read once; each repeat is still warned
    # about where it is written, and its checks (self link, target kind) still run
    text = (
        "digraph g {\n"
        ' a -> b [label="calls"];\n'
        ' a -> b [label="calls"];\n'
        ' c -> c -> c [label="calls"];\n'
        ' a -> b -> b [label="calls", event="Paid"];\n'
        ' a -> s [label="stores in"]; a -> s [label="stores in"]; s [kind=service];\n'
        "}\n"
    )
    with pytest.raises(InvalidModelError) as info:
        read_architecture(text)
    checked = {"duplicate-link", "self-link", "relation-target"}
    found = [(d.code, d.location.line, d.message) for d in info.value.diagnostics
             if d.code in checked]  # fmt: skip
    assert found == [
        ("duplicate-link", 3, "duplicate link a -> b [calls] (first at 2:2); it counts once"),
        ("self-link", 4, "'c' calls itself"),
        ("duplicate-link", 4, "duplicate link c -> c [calls] (first at 4:2); it counts once"),
        ("self-link", 4, "'c' calls itself"),
        ("self-link", 5, "'b' calls itself"),
        ("relation-target", 6, "'s' is a service, but 'stores in' needs a database"),
        ("duplicate-link", 6, "duplicate link a -> s [stores in] (first at 6:2); it counts once"),
        ("relation-target", 6, "'s' is a service, but 'stores in' needs a database"),
    ]


def test_an_undirected_graph_reads_each_edge_as_written():
    result = read_architecture(
        'graph g { web -- a; a -- b [label="calls"]; b -- db; db [shape=cylinder]; }', "g.dot"
    )
    (said,) = [d for d in result.diagnostics if d.code == "undirected"]
    assert said.severity is Severity.INFO and "digraph" in said.hint
    links = {(lk.source, lk.target, lk.relation.label) for lk in result.architecture.links}
    assert links == {("web", "a", "calls"), ("a", "b", "calls"), ("b", "db", "stores in")}


def test_empty_graph_and_several_graphs():
    (err,) = _errors("digraph g { }")
    assert "no components" in err.message
    errors = _errors('digraph a { x -> y [label="calls"]; }\ndigraph b { z; }')
    assert any("2 graphs" in e.message and e.location.line == 2 for e in errors)


def test_relation_to_the_wrong_kind_of_component_is_an_error():
    text = 'digraph g { svc -> other [label="stores in"]; other [kind=service]; }'
    errors = _errors(text)
    assert any("needs a database" in e.message for e in errors)


def test_unknown_attribute_close_to_ours_is_a_warning_not_an_error():
    result = read_architecture('digraph g { a [servce_time="5ms"]; a -> b [label="calls"]; }')
    (warning,) = [d for d in result.diagnostics if d.severity is Severity.WARNING]
    assert warning.hint == "did you mean 'service_time'?"


def test_graphviz_display_attributes_are_kept_not_flagged():
    result = read_architecture('digraph g { a [color=red, style=filled]; a -> b [label="calls"]; }')
    assert result.diagnostics == ()
    assert result.architecture.component("a").attrs["color"] == "red"


def test_unlabelled_edges_are_read_from_the_target_kind_with_a_note():
    result = read_architecture('digraph g { svc -> orders_db; orders_db [label="Orders DB"]; }')
    assert result.architecture.links[0].relation.value == "stores_in"
    assert any(d.code == "unlabelled" for d in result.diagnostics)


def test_explicit_kind_wins_and_conflicts_warn():
    result = read_architecture('digraph g { s -> x [label="stores in"]; x [kind=database]; }')
    assert result.architecture.component("x").kind.value == "database"
    result = read_architecture(
        'digraph g { a -> lb [label="distributes to"]; a [kind=gateway]; lb [label="LB"]; '
        'api -> api_db [label="stores in"]; }'
    )
    assert any(d.code == "kind-conflict" for d in result.diagnostics)


def test_seed_as_given_on_one_line_reports_the_swallowing_comment(seed_path):
    text = (seed_path.parent.parent / "shared" / "seeds").exists()
    raw = " ".join(line.strip() for line in seed_path.read_text().splitlines())
    with pytest.raises(DotSyntaxError) as info:
        read_architecture(raw, "seed.dot")
    (err,) = info.value.diagnostics
    assert "comment" in err.message and "swallows" in err.message
    assert "fmt --fix" in (err.hint or "")
    assert text in (True, False)
