"""``archsim.model.records``: fast builders give exactly what the validated constructors give."""

from __future__ import annotations

import pytest

from archsim.model import load, read_architecture
from archsim.model.architecture import Link, SourceRef
from archsim.model.kinds import Relation
from archsim.model.records import build, replacer


def test_a_replaced_copy_equals_the_validated_record_with_those_fields():
    template = Link(source="a", target="b", relation=Relation.CALLS, label="calls", p=0.5,
                    attrs={"p": "0.5"}, source_ref=SourceRef(line=2, col=3))  # fmt: skip
    like = replacer(Link, "source", "target", "source_ref")
    copy = like(template, "c", "d", SourceRef(line=4, col=5))
    assert copy == build(Link, source="c", target="d", relation=Relation.CALLS, label="calls",
                         p=0.5, attrs={"p": "0.5"}, source_ref={"line": 4, "col": 5})  # fmt: skip
    assert template.source == "a" and copy.p == 0.5
    with pytest.raises(ValueError, match="has no field colour"):
        replacer(Link, "source", "colour")


def test_edges_that_read_alike_are_links_of_their_own():
    # the second and third edges copy the first, validated one: their own ends and places
    text = 'digraph g {\n a -> b [label="calls", p=0.5];\n c -> d -> e [label="calls", p=0.5];\n}'
    links = read_architecture(text).architecture.links
    assert [(lk.source, lk.target, lk.p) for lk in links] == [
        ("a", "b", 0.5), ("c", "d", 0.5), ("d", "e", 0.5)
    ]  # fmt: skip
    assert [(lk.source_ref.line, lk.source_ref.col) for lk in links if lk.source_ref] == [
        (2, 2), (3, 2), (3, 7)
    ]  # fmt: skip
    assert links[0].attrs == links[1].attrs and links[0].attrs is not links[1].attrs


def test_has_links_answers_as_the_lists_of_links_do():
    # has_links_to/has_links_from look the relations up in the link indexes; the answer is
    # whether links_to/links_from would list anything
    arch = load("topology.dot").architecture
    asked = [(), (Relation.CALLS,), (Relation.CALLS, Relation.USES, Relation.ROUTES_TO)]
    asked += [(rel,) for rel in Relation] + [tuple(Relation)]
    for comp in arch.components:
        for relations in asked:
            into = arch.has_links_to(comp.id, *relations)
            assert into == bool(arch.links_to(comp.id, *relations))
            out = arch.has_links_from(comp.id, *relations)
            assert out == bool(arch.links_from(comp.id, *relations))
