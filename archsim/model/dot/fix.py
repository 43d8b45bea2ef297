"""Repair of DOT files whose ``//`` comments swallowed statements.

A file written on one line with ``// Section`` comments is valid-looking to a human but, in
DOT, the first ``//`` runs to the end of the line. The repair ends each such comment just
before the statement that follows it: the statement starts at the last id before the first
DOT operator (``[``, ``->``, ``--``, ``=``), walking back over ports (``a:p``), or at a
``node``/``edge``/``graph`` keyword. Anything less clear-cut is refused ("unfixable").
"""

from __future__ import annotations

from archsim.errors import DotSyntaxError
from archsim.model.dot.lexer import Comment, Source, Tokens, tokenize
from archsim.model.dot.parser import parse_dot

__all__ = ["fix_dot"]

_INDENT = "    "
_WORDS = frozenset({"ID", "STR", "HTML", "KW"})
_OPERATORS = frozenset({"[", "->", "--", "="})
_DEFAULT_KW = frozenset({"node", "edge", "graph"})


class _Unfixable(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset  # into the comment's text (after '//')
        self.reason = reason


def _statement_start(toks: Tokens, i: int) -> tuple[int, int]:
    """(index where the statement after comment words starts, index of its operator);
    (-1, j) when the words run into another comment or the end of the text."""
    kinds, values = toks.kinds, toks.values
    j = i
    while kinds[j] in _WORDS or kinds[j] == ":":
        j += 1
    k = kinds[j]
    if k in ("//", "EOF"):
        return -1, j
    if k not in _OPERATORS:
        what = "a '{' statement start" if k == "{" else f"DOT punctuation '{k}'"
        raise _Unfixable(toks.positions[j], f"the comment words run into {what}")
    if j == i:
        raise _Unfixable(toks.positions[j], f"the comment has no words before '{k}'")
    s = j - 1
    if kinds[s] == "KW":
        if values[s] not in _DEFAULT_KW or k != "[":
            raise _Unfixable(toks.positions[s], f"keyword '{values[s]}' before '{k}'")
    elif kinds[s] == ":":
        raise _Unfixable(toks.positions[s], "':' before the first operator")
    else:
        while s - 2 >= i and kinds[s - 1] == ":" and kinds[s - 2] in ("ID", "STR"):
            s -= 2
    if s == i:
        raise _Unfixable(
            toks.positions[s],
            "nothing but a statement follows '//'; it may have been commented out on purpose",
        )
    if ":" in kinds[i:s]:
        raise _Unfixable(toks.positions[i], "the comment words contain ':'")
    return s, j


def _statement_lines(
    tail: str, toks: Tokens, start: int, stop: int, depth: int
) -> tuple[list[str], int, int]:
    """Split the tokens ``start..stop`` into one statement per line; returns lines and depth."""
    kinds, positions = toks.kinds, toks.positions
    lines: list[str] = []
    begin = positions[start]
    brackets = 0
    count = 0
    for t in range(start, stop):
        k = kinds[t]
        if k == "[":
            brackets += 1
        elif k == "]":
            brackets -= 1
        elif brackets:
            continue
        elif k in (";", "{"):
            lines.append(_INDENT * depth + tail[begin : positions[t] + 1].strip())
            count += k == ";"
            depth += k == "{"
            begin = positions[t + 1]
        elif k == "}":
            rest = tail[begin : positions[t]].strip()
            if rest:
                lines.append(_INDENT * depth + rest)
                count += 1
            depth = max(depth - 1, 0)
            lines.append(_INDENT * depth + "}")
            begin = positions[t + 1]
    rest = tail[begin : positions[stop]].strip()
    if rest:
        lines.append(_INDENT * depth + rest)
        count += 1
    return lines, depth, count


def _repair(comment: Comment, depth: int) -> tuple[list[str], int, int]:
    """Lines replacing one swallowing comment; also the number of comments and statements."""
    tail = comment.raw[2:]
    toks = tokenize(Source(tail), line_comments=False)
    if toks.errors:
        raise _Unfixable(0, toks.errors[0].message)
    kinds, positions = toks.kinds, toks.positions
    lines: list[str] = []
    n_comments = n_stmts = 0
    i = 0
    while True:
        s, j = _statement_start(toks, i)
        words_end = positions[s] if s >= 0 else positions[j]
        words = tail[positions[i] if i < len(positions) else 0 : words_end].strip()
        if words:
            lines.append(f"{_INDENT * depth}// {words}")
            n_comments += 1
        if s < 0:
            stop = j
        else:
            stop = s
            while kinds[stop] not in ("//", "EOF"):
                stop += 1
            more, depth, count = _statement_lines(tail, toks, s, stop, depth)
            lines.extend(more)
            n_stmts += count
        if kinds[stop] == "EOF":
            return lines, n_comments, n_stmts
        i = stop + 1


def fix_dot(text: str, file: str | None = None) -> tuple[str, list[str]]:
    """Split ``//`` comments that swallowed statements; return the new text and the changes.

    Raises ``DotSyntaxError`` (code ``unfixable``) when the split is not unambiguous.
    """
    source = Source(text, file)
    toks = tokenize(source)
    changes: list[str] = []
    out: list[str] = []
    done = 0
    for comment in toks.comments:
        if not comment.looks_like_dot():
            continue
        depth = toks.kinds[: comment.before].count("{") - toks.kinds[: comment.before].count("}")
        try:
            lines, n_comments, n_stmts = _repair(comment, max(depth, 0))
        except _Unfixable as exc:
            where = source.location(comment.pos + 2 + exc.offset)
            raise DotSyntaxError(
                f"cannot repair the '//' comment at {source.where(comment.pos)}: {exc.reason}",
                where,
                "split the line by hand: one statement per line, comments on their own lines",
                code="unfixable",
            ) from None
        line_start = text.rfind("\n", 0, comment.pos) + 1
        prefix = text[line_start : comment.pos].rstrip()
        out.append(text[done:line_start])
        if prefix:
            out.append(prefix + "\n")
        out.append("\n".join(lines))
        done = comment.pos + len(comment.raw)
        changes.append(
            f"{source.where(comment.pos)}: the '//' comment swallowed {n_stmts} statements; "
            f"split into {n_comments} comment lines and {n_stmts} statement lines"
        )
    if not changes:
        return text, []
    out.append(text[done:])
    fixed = "".join(out)
    if not fixed.endswith("\n"):
        fixed += "\n"
    try:
        parse_dot(fixed, file)
    except DotSyntaxError as exc:
        first = exc.diagnostics[0]
        raise DotSyntaxError(
            f"the repaired text still does not parse: {first.message}",
            first.location,
            "repair the file by hand",
            code="unfixable",
            diagnostics=None,
        ) from None
    return fixed, changes
