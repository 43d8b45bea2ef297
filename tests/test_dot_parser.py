"""Unit tests of the DOT front end: one construct or one error per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.errors import DotSyntaxError, Location, Severity
from archsim.model.dot import decode_dot, parse_dot, quote_id, structure, write_dot
from archsim.model.dot.parser import MAX_DEPTH, MAX_ERRORS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((Path(__file__).parent / "dot_corpus").glob("*.dot"))
SEED = Path("/work/shared/seeds/000_39e9822b3a60f704.txt")


def graph(text: str):
    doc = parse_dot(text, "t.dot")
    assert len(doc.graphs) == 1
    return doc.graphs[0]


def values(attrs) -> dict[str, str]:
    return {k: a.value for k, a in attrs.items()}


def errors(text: str) -> list:
    with pytest.raises(DotSyntaxError) as info:
        parse_dot(text, "t.dot")
    diags = info.value.diagnostics
    assert all(d.severity is Severity.ERROR for d in diags)
    return diags


def where(diag) -> tuple[int, int]:
    return diag.location.line, diag.location.col


# -- constructs ---------------------------------------------------------------------------------
def test_minimal_digraph_and_graph_header():
    g = graph("digraph G { a }")
    assert (g.name, g.directed, g.strict) == ("G", True, False)
    assert list(g.nodes) == ["a"] and g.location == Location("t.dot", 1, 1)
    g = graph('strict graph "my graph" { a -- b }')
    assert (g.name, g.directed, g.strict) == ("my graph", False, True)


def test_keywords_are_case_insensitive():
    g = graph("DiGraph G { NODE [shape=box]; Edge [color=red]; a -> b }")
    assert values(g.nodes["a"].attrs) == {"shape": "box"}
    assert values(g.edges[0].attrs) == {"color": "red"}


def test_every_spelling_of_a_keyword_is_one_and_near_words_are_ids():
    from itertools import product

    from archsim.model.dot.lexer import KEYWORDS, Source, tokenize

    for word in KEYWORDS:
        for chars in product(*((c, c.upper()) for c in word)):
            toks = tokenize(Source("".join(chars)))
            assert (toks.kinds[0], toks.values[0]) == ("KW", word)
    for near in ("nodes", "edge_", "Graphs", "sub_graph", "strictly", '"graph"', "dİgraph"):
        toks = tokenize(Source(near))
        assert toks.kinds[0] in ("ID", "STR") and toks.values[0] == near.strip('"')


def test_quoted_ids_escapes_concatenation_and_continuation():
    g = graph('digraph { "a b" [label="say \\"hi\\"", x="c:\\\\d", y="one" + "two", z="x\\\ny"] }')
    assert values(g.nodes["a b"].attrs) == {
        "label": 'say "hi"',
        "x": "c:\\\\d",
        "y": "onetwo",
        "z": "xy",
    }


def test_numerals_and_unicode_ids():
    g = graph("graph { -1.5 -- .5 -- 7; café -- naïve }")
    assert list(g.nodes) == ["-1.5", ".5", "7", "café", "naïve"]


def test_html_strings_with_nested_angles():
    g = graph("digraph { a [label=<<b>x</b><br/>>] }")
    label = g.nodes["a"].attrs["label"]
    assert label.is_html and label.value == "<b>x</b><br/>"


def test_attribute_list_separators_and_repeats():
    g = graph("digraph { a [x=1, y=2; z=3 w=4][v=5] }")
    assert values(g.nodes["a"].attrs) == {"x": "1", "y": "2", "z": "3", "w": "4", "v": "5"}
    assert g.nodes["a"].attrs["y"].location == Location("t.dot", 1, 19)


def test_graph_attribute_statements():
    g = graph('digraph { rankdir=LR; graph [label="L", bgcolor=white] }')
    assert values(g.attrs) == {"rankdir": "LR", "label": "L", "bgcolor": "white"}


def test_defaults_merge_under_own_and_are_scoped():
    g = graph(
        """digraph {
        node [shape=box, color=black]
        a [color=red]
        subgraph cluster_x { node [shape=circle]; edge [style=dashed]; b; a -> b }
        c
        c -> a
    }"""
    )
    assert values(g.nodes["a"].attrs) == {"shape": "box", "color": "red"}
    assert g.nodes["a"].own_keys == ("color",)
    assert values(g.nodes["b"].attrs) == {"shape": "circle", "color": "black"}
    assert values(g.nodes["c"].attrs) == {"shape": "box", "color": "black"}
    assert values(g.edges[0].attrs) == {"style": "dashed"} and g.edges[0].own_keys == ()
    assert values(g.edges[1].attrs) == {}


def test_nodes_only_in_edges_are_undeclared_and_get_defaults():
    g = graph("digraph { node [shape=box]; a; a -> b }")
    assert g.nodes["a"].declared and not g.nodes["b"].declared
    assert values(g.nodes["b"].attrs) == {"shape": "box"}


def test_repeated_declarations_merge_and_are_all_listed():
    g = graph("digraph {\n a [x=1]\n b\n a [y=2]\n}")
    assert values(g.nodes["a"].attrs) == {"x": "1", "y": "2"}
    assert g.nodes["a"].location.line == 2
    assert [(d.id, d.location.line, d.own_keys) for d in g.declarations] == [
        ("a", 2, ("x",)),
        ("b", 3, ()),
        ("a", 4, ("y",)),
    ]


def test_edge_chains_and_subgraph_operands():
    g = graph("digraph { a -> b -> c [w=1]; a -> {b c}; {x y} -> {z} }")
    pairs = [(e.source, e.target) for e in g.edges]
    assert pairs == [("a", "b"), ("b", "c"), ("a", "b"), ("a", "c"), ("x", "z"), ("y", "z")]
    assert values(g.edges[1].attrs) == {"w": "1"}


def test_ports_and_compass_points():
    g = graph('digraph { a:p1 -> b:"p 2":ne; c:s -> d }')
    e1, e2 = g.edges
    assert (e1.source_port, e1.target_port) == ("p1", "p 2:ne")
    assert (e2.source_port, e2.target_port) == ("s", None)


def test_subgraph_membership_parents_and_edges():
    g = graph(
        """digraph {
        a
        subgraph cluster_outer {
            label="Outer"
            subgraph cluster_inner { b; c -> a }
            d
        }
        { rank=same; e f }
        { g }
    }"""
    )
    subs = {s.name: s for s in g.subgraphs}
    assert set(subs) == {"cluster_outer", "cluster_inner", None}
    assert subs["cluster_inner"].parent == "cluster_outer"
    assert subs["cluster_inner"].nodes == ["b", "c", "a"]
    assert subs["cluster_outer"].nodes == ["b", "c", "a", "d"]
    assert values(subs["cluster_outer"].attrs) == {"label": "Outer"}
    assert subs[None].nodes == ["e", "f"] and values(subs[None].attrs) == {"rank": "same"}
    assert g.nodes["b"].subgraph == "cluster_inner" and g.nodes["d"].subgraph == "cluster_outer"
    assert g.nodes["a"].subgraph == "cluster_inner"  # first subgraph it appears in
    assert g.nodes["e"].subgraph is None
    assert g.edges[0].subgraph == "cluster_inner"


def test_reopened_subgraph_is_merged():
    g = graph("digraph { subgraph s { a } subgraph s { b } }")
    assert [(s.name, s.nodes) for s in g.subgraphs] == [("s", ["a", "b"])]


def test_comments_attach_to_the_next_statement():
    g = graph(
        """// about the graph
digraph {
    // first
    /* block
       comment */
    a
# preprocessor line
    node [shape=box]
    a -> b  // same line
    b
    // the end
}
// after"""
    )
    assert g.comments == ("about the graph",)
    assert g.nodes["a"].comments == ("first", "block", "comment")
    assert g.edges[0].comments == ("preprocessor line",)
    assert g.declarations[1].comments == ("same line",)
    assert g.trailing_comments == ("the end", "after")


def test_semicolons_are_optional_and_newlines_do_not_matter():
    g = graph("digraph {\na\n->\nb\n[\nx\n=\n1\n]\n}")
    assert [(e.source, e.target, values(e.attrs)) for e in g.edges] == [("a", "b", {"x": "1"})]


def test_several_graphs_in_one_file():
    doc = parse_dot("digraph a { x } graph b { y }")
    assert [(g.name, g.directed) for g in doc.graphs] == [("a", True), ("b", False)]


def test_bom_and_crlf_are_accepted():
    g = graph("\ufeffdigraph {\r\n  a -> b\r\n}\r\n")
    assert g.edges[0].location == Location("t.dot", 2, 3)


def test_the_repaired_seed():
    g = graph((ROOT / "topology.dot").read_text())
    assert sum(n.declared for n in g.nodes.values()) == 17 and len(g.edges) == 29
    assert g.nodes["api_gateway"].comments == ("API Gateway",)
    assert values(g.nodes["load_balancer"].attrs) == {
        "label": "Load Balancer",
        "type": "technology",
        "shape": "diamond",
    }


# -- errors -------------------------------------------------------------------------------------
def test_empty_file():
    (d,) = errors("  \n")
    assert d.message == "file is empty" and d.code == "empty"
    (d,) = errors("// nothing but a comment\n")
    assert "only comments" in d.message


def test_seed_comment_swallows_the_file():
    (d,) = errors(SEED.read_text())
    assert where(d) == (1, 37) and d.code == "swallowed-statements"
    assert d.message.startswith("the '//' comment at 1:37 runs to the end of the line")
    assert "swallows the rest of the file (46 statements" in d.message
    assert "the graph opened at 1:35 is never closed" in d.message
    assert "/* ... */" in d.hint and "archsim fmt --fix" in d.hint


def test_missing_closing_brace():
    (d,) = errors("digraph {\n a -> b\n")
    assert d.message == "expected '}' to close the graph opened at 1:9, found end of file"
    assert where(d) == (3, 1)


def test_unclosed_subgraph_is_reported_once():
    (d,) = errors("digraph {\n subgraph cluster_a {\n  a\n")
    assert "close the subgraph opened at 2:21" in d.message


def test_wrong_edge_operator_for_graph_type():
    d1, d2 = errors("digraph {\n  a -- b\n}\ngraph {\n  c -> d\n}")
    assert where(d1) == (2, 5) and "'--' used in a digraph" in d1.message
    assert where(d2) == (5, 5) and "'->' used in a graph" in d2.message


def test_unclosed_attribute_list():
    (d,) = errors('digraph {\n  a -> b\n  c [label="x";\n  d -> e\n}')
    assert d.message == "expected ']' to close the attribute list opened at 3:5, found ';'"
    assert where(d) == (3, 15)


def test_every_error_is_reported_in_one_go():
    diags = errors(
        "digraph {\n"
        "  a [bold]\n"  # 2: missing '='
        "  b -> \n"  # 3: missing target (found '}'?) -> next line token
        "  ;\n"
        "  c -- d\n"  # 5: wrong operator
        "  e @ f\n"  # 6: unexpected character
        "  g [x=1]\n"  # fine
        "}"
    )
    got = [(where(d), d.message.split(",")[0]) for d in diags]
    assert got == [
        ((2, 10), "expected '=' after attribute 'bold'"),
        ((4, 3), "expected a node or subgraph after '->'"),
        ((5, 5), "edge operator '--' used in a digraph; a digraph uses '->'"),
        ((6, 5), "unexpected character '@'"),
    ]


def test_unterminated_tokens_are_reported_at_their_start():
    (d,) = errors('digraph {\n  a [label="never closed]\n}\n')
    assert where(d) == (2, 12) and "unterminated string" in d.message
    (d,) = errors("digraph {\n  /* open\n  a\n}\n")
    assert where(d) == (2, 3) and "unterminated comment" in d.message
    (d,) = errors("digraph {\n  a [label=<<b>x</b>]\n}\n")
    assert where(d) == (2, 12) and "unterminated HTML" in d.message


def test_lexical_errors():
    diags = errors("digraph {\n  2ab\n  x # y\n}")
    assert [where(d) for d in diags] == [(2, 3), (3, 5)]
    assert "badly delimited number '2ab'" in diags[0].message
    assert "beginning of a line" in diags[1].hint


def test_keyword_cannot_be_a_bare_node_id():
    (d,) = errors("digraph { a -> node }")
    assert d.message == "expected a node or subgraph after '->', found keyword 'node'"


def test_missing_graph_keyword_and_stray_brace():
    (d,) = errors("{ a }")
    assert d.message == "expected 'graph' or 'digraph', found '{'"
    (d,) = errors("digraph { a } }")
    assert where(d) == (1, 15)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000])
def test_deep_nesting_is_capped_not_a_recursion_error(depth):
    diags = errors("digraph {" + "{" * depth + "}" * depth + "}")
    assert diags[0].code == "too-deep" and where(diags[0]) == (1, 10 + MAX_DEPTH)


def test_deep_nesting_under_the_cap_is_fine():
    depth = MAX_DEPTH
    g = graph("digraph {" + "{ " * (depth - 1) + "a" + " }" * (depth - 1) + "}")
    assert list(g.nodes) == ["a"]


def test_error_count_is_capped():
    diags = errors("digraph {\n" + "a [x]\n" * 200 + "}")
    assert len(diags) == MAX_ERRORS + 1 and diags[-1].code == "too-many-errors"


def test_error_str_has_file_line_col():
    with pytest.raises(DotSyntaxError) as info:
        parse_dot("digraph { a -> }", "arch.dot")
    assert str(info.value).startswith("arch.dot:1:16: error: expected a node or subgraph")


# -- decoding -----------------------------------------------------------------------------------
def test_decode_utf8_with_bom():
    assert decode_dot("\ufeffdigraph { é }".encode()) == "digraph { é }"


def test_decode_latin1_reports_the_first_bad_byte():
    with pytest.raises(DotSyntaxError) as info:
        decode_dot("digraph {\n  caf\xe9\n}".encode("latin-1"), "x.dot")
    err = info.value
    assert err.code == "encoding" and err.location == Location("x.dot", 2, 6)
    assert "0xE9" in err.hint and "Latin-1" in err.hint and "UTF-8" in err.hint


# -- writer -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("abc_1", "abc_1"),
        ("-1.5", "-1.5"),
        ("node", '"node"'),
        ("Graph", '"Graph"'),
        ("a b", '"a b"'),
        ("1a", '"1a"'),
        ('say "x"', '"say \\"x\\""'),
        ("", '""'),
    ],
)
def test_quote_id(text, quoted):
    assert quote_id(text) == quoted


def test_writer_layout():
    g = graph(
        """// top
digraph G { b -> a [label="x y"]; rankdir=LR
  subgraph cluster_a { label=A; a [shape=box] }
  // note
  b [label=<<i>B</i>>] }"""
    )
    assert write_dot(g) == (
        "// top\n"
        "digraph G {\n"
        "    rankdir=LR;\n"
        "    // note\n"
        "    b [label=<<i>B</i>>];\n"
        "    subgraph cluster_a {\n"
        "        label=A;\n"
        "        a [shape=box];\n"
        "    }\n"
        '    b -> a [label="x y"];\n'
        "}\n"
    )


@pytest.mark.parametrize("path", [*CORPUS, ROOT / "topology.dot"], ids=lambda p: p.name)
def test_writer_round_trip_on_corpus(path):
    first = parse_dot(path.read_text())
    text = write_dot(first.graphs[0])
    second = parse_dot(text)
    assert structure(second) == structure(first)
    assert write_dot(second.graphs[0]) == text  # canonical: writing is a fixed point


def test_locations_are_plain_locations_of_line_and_column():
    # the parser sets them through Location's slots (a fast path): they must be the same values
    doc = parse_dot('digraph {\n  a -> b [label="calls"];\n}\n', "f.dot")
    edge = doc.graphs[0].edges[0]
    for got, want in ((edge.location, Location("f.dot", 2, 3)),
                      (edge.attrs["label"].location, Location("f.dot", 2, 11))):  # fmt: skip
        assert type(got) is Location
        assert got == want and hash(got) == hash(want) and str(got) == str(want)
