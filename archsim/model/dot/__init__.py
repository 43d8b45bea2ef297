"""DOT front end: a dedicated lexer/parser with precise error positions, a canonical writer
and a repair for files whose ``//`` comments swallowed statements."""

from archsim.model.dot.ast import Attr, DotDocument, DotEdge, DotGraph, DotNode, DotSubgraph
from archsim.model.dot.fix import fix_dot
from archsim.model.dot.lexer import MAX_INPUT_BYTES, check_size, decode_dot, read_dot_bytes
from archsim.model.dot.parser import parse_dot
from archsim.model.dot.writer import quote_id, structure, write_dot

__all__ = [
    "MAX_INPUT_BYTES",
    "Attr",
    "DotDocument",
    "DotEdge",
    "DotGraph",
    "DotNode",
    "DotSubgraph",
    "check_size",
    "decode_dot",
    "fix_dot",
    "parse_dot",
    "quote_id",
    "read_dot_bytes",
    "structure",
    "write_dot",
]
