"""DOT tokenizer: one compiled master regex, tokens kept in flat parallel lists.

Positions are character offsets; line/column are derived only when a location is needed
(``Source.location``), via precomputed line starts and ``bisect``. Lexical errors are collected
(not raised) so the parser can report every problem of a file in one go.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from archsim.errors import Diagnostic, DotSyntaxError, Location, Severity

__all__ = [
    "KEYWORDS",
    "Comment",
    "Source",
    "Tokens",
    "decode_dot",
    "is_bare_id",
    "tokenize",
    "unescape",
]

KEYWORDS = frozenset({"strict", "graph", "digraph", "node", "edge", "subgraph"})

# Token kinds: "ID" (bare word or numeral), "STR" (quoted), "HTML", "KW" (lower-cased keyword),
# "EOF", "//" (only when line comments are disabled) and the punctuation text itself.
_ALNUM = r"A-Za-z0-9_\u0080-\U0010ffff"
_NUMERAL = r"-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)"
# Leading whitespace is eaten by the same match, so every match yields a token (or the end).
_MASTER = re.compile(
    r"""
    [ \t\r\n\f\v]*
    (?:
      ([A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)  # 1 bare id
    | ("[^"\\]*(?:\\.[^"\\]*)*")                               # 2 quoted string
    | (->|--)                                                  # 3 edge operator
    | ([{}\[\]=;,:+])                                          # 4 punctuation
    | (NUMERAL)(?![A-Za-z_\u0080-\U0010ffff])                  # 5 numeral
    | (//[^\n]*)                                               # 6 line comment
    | (/\*.*?\*/)                                              # 7 block comment
    | (^\#[^\n]*)                                              # 8 preprocessor line
    | (<)                                                      # 9 HTML string start
    | (")                                                      # 10 unterminated string
    | (/\*)                                                    # 11 unterminated comment
    | (NUMERAL[A-Za-z_\u0080-\U0010ffff]*)                     # 12 badly delimited number
    | (\Z)                                                     # 13 end of text
    | (.)                                                      # 14 anything else
    )
    """.replace("NUMERAL", _NUMERAL),
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
_ANGLE = re.compile(r"[<>]")
_ESCAPE = re.compile(r'\\(["\\]|\r?\n)')
_BARE_ID = re.compile(rf"[A-Za-z_\u0080-\U0010ffff][{_ALNUM}]*|{_NUMERAL}")
_SUSPICIOUS = re.compile(r"->|--|[;\[\]{}]")


def _unescape_one(m: re.Match[str]) -> str:
    # Graphviz's scanner: \" becomes ", \\ stays \\, backslash-newline is a line continuation.
    c = m.group(1)
    return '"' if c == '"' else ("\\\\" if c == "\\" else "")


def unescape(body: str) -> str:
    """The value of a quoted string's body (between the quotes), as Graphviz reads it."""
    return _ESCAPE.sub(_unescape_one, body) if "\\" in body else body


def is_bare_id(text: str) -> bool:
    """True when ``text`` can be written without quotes (identifier or numeral, not a keyword)."""
    return _BARE_ID.fullmatch(text) is not None and text.lower() not in KEYWORDS


class Source:
    """A text with its line starts, to turn offsets into 1-based line/column locations."""

    __slots__ = ("file", "line_starts", "text")

    def __init__(self, text: str, file: str | None = None) -> None:
        self.text = text
        self.file = file
        starts = [0]
        find = text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.line_starts = starts

    def line_col(self, pos: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        line = bisect_right(self.line_starts, pos)
        return line, pos - self.line_starts[line - 1] + 1

    def location(self, pos: int) -> Location:
        """A ``Location`` for a character offset."""
        line = bisect_right(self.line_starts, pos)
        return Location(self.file, line, pos - self.line_starts[line - 1] + 1)

    def where(self, pos: int) -> str:
        """``line:col`` of an offset, for messages."""
        line, col = self.line_col(pos)
        return f"{line}:{col}"


class Comment:
    """A comment's text (delimiters stripped) and where it starts; ``before`` is the index of
    the next token, so the parser can attach it to the statement that follows."""

    __slots__ = ("before", "kind", "pos", "raw", "text")

    def __init__(self, kind: str, raw: str, pos: int, before: int) -> None:
        self.kind = kind
        self.raw = raw
        self.pos = pos
        self.before = before
        if kind == "//":
            self.text = raw[2:].strip()
        elif kind == "#":
            self.text = raw[1:].strip()
        else:
            self.text = raw[2:-2].strip()

    def lines(self) -> list[str]:
        """The comment as non-empty stripped lines (block comments may span several)."""
        return [s for s in (ln.strip().lstrip("*").strip() for ln in self.text.split("\n")) if s]

    def looks_like_dot(self) -> bool:
        """A ``//`` comment that contains DOT punctuation probably swallowed statements."""
        return self.kind == "//" and _SUSPICIOUS.search(self.raw, 2) is not None


class Tokens:
    """The token stream: parallel lists of kinds, values and offsets, plus comments."""

    __slots__ = ("comments", "errors", "kinds", "positions", "source", "values")

    def __init__(self, source: Source) -> None:
        self.source = source
        self.kinds: list[str] = []
        self.values: list[str] = []
        self.positions: list[int] = []
        self.comments: list[Comment] = []
        self.errors: list[Diagnostic] = []

    def add(self, kind: str, value: str, pos: int) -> None:
        """Append one token."""
        self.kinds.append(kind)
        self.values.append(value)
        self.positions.append(pos)

    def error(self, pos: int, message: str, hint: str | None = None, code: str = "syntax") -> None:
        """Record a lexical error at an offset."""
        loc = self.source.location(pos)
        self.errors.append(Diagnostic(Severity.ERROR, message, loc, hint, code))


def _scan_html(text: str, start: int) -> int:
    """Offset just past the ``>`` closing the HTML string opened at ``start``, or -1."""
    depth = 0
    for m in _ANGLE.finditer(text, start):
        depth += 1 if m.group() == "<" else -1
        if depth == 0:
            return m.end()
    return -1


def _rare(toks: Tokens, m: re.Match[str], g: int, line_comments: bool) -> int:
    """Tokens other than ids, strings and punctuation; returns where to go on (-1: stop)."""
    start = m.start(g)
    text = toks.source.text
    if g == 5:
        toks.add("ID", m.group(5), start)
    elif g == 6:
        if not line_comments:
            toks.add("//", "//", start)
            return start + 2
        toks.comments.append(Comment("//", m.group(6), start, len(toks.kinds)))
    elif g == 7:
        toks.comments.append(Comment("/*", m.group(7), start, len(toks.kinds)))
    elif g == 8:
        toks.comments.append(Comment("#", m.group(8), start, len(toks.kinds)))
    elif g == 9:
        stop = _scan_html(text, start)
        if stop < 0:
            toks.error(
                start,
                "unterminated HTML string: this '<' is never closed by '>'",
                "HTML strings need balanced '<' and '>'; quote the value instead",
                "unterminated",
            )
            return -1
        toks.add("HTML", text[start + 1 : stop - 1], start)
        return stop
    elif g == 10:
        toks.error(
            start,
            "unterminated string: this '\"' is never closed",
            "close the string with '\"' (write \\\" for a quote inside it)",
            "unterminated",
        )
        return -1
    elif g == 11:
        toks.error(
            start,
            "unterminated comment: this '/*' is never closed by '*/'",
            "close the comment with '*/'",
            "unterminated",
        )
        return -1
    elif g == 12:
        bad = m.group(12)
        toks.error(
            start,
            f"badly delimited number '{bad}': a numeral cannot run into a name",
            f'put a space after the number or quote the whole id: "{bad}"',
        )
        toks.add("ID", bad, start)
    else:
        ch = m.group(14)
        hint = None
        if ch == "#":
            hint = "'#' starts a comment only at the beginning of a line; use // or quote it"
        toks.error(start, f"unexpected character {ch!r}", hint)
    return m.end()


def tokenize(source: Source, line_comments: bool = True) -> Tokens:
    """Split a DOT text into tokens; errors are collected in ``Tokens.errors``."""
    text = source.text
    toks = Tokens(source)
    kinds, values, positions = toks.kinds, toks.values, toks.positions
    kadd, vadd, padd = kinds.append, values.append, positions.append
    finditer = _MASTER.finditer
    keywords = KEYWORDS
    pos = 1 if text.startswith("\ufeff") else 0
    finished = False
    while not finished:
        # finditer is the fast path; the rare tokens that move the cursor (HTML strings,
        # '//' when line comments are off) or stop lexing restart or end the iteration
        finished = True
        for m in finditer(text, pos):
            g = m.lastindex
            if g == 1:
                word = m.group(1)
                low = word.lower()
                if low in keywords:
                    kadd("KW")
                    vadd(low)
                else:
                    kadd("ID")
                    vadd(word)
                padd(m.start(1))
            elif g == 4 or g == 3:
                tok = m.group(g)
                kadd(tok)
                vadd(tok)
                padd(m.start(g))
            elif g == 2:
                kadd("STR")
                body = m.group(2)
                vadd(unescape(body[1:-1]) if "\\" in body else body[1:-1])
                padd(m.start(2))
            elif g != 13:
                nxt = _rare(toks, m, g, line_comments)
                if nxt != m.end():
                    pos = nxt
                    finished = nxt < 0
                    break
    kadd("EOF")
    vadd("")
    padd(len(text))
    return toks


def decode_dot(data: bytes, file: str | None = None) -> str:
    """Decode a DOT file's bytes as UTF-8 (a BOM is fine); raise ``DotSyntaxError`` otherwise."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        line = good.count("\n") + 1
        col = len(good) - (good.rfind("\n") + 1) + 1
        byte = data[exc.start]
        guess = ", looks like Latin-1 (ISO-8859-1) or Windows-1252" if byte >= 0x80 else ""
        raise DotSyntaxError(
            f"the file is not valid UTF-8: byte 0x{byte:02X} cannot be decoded",
            Location(file, line, col),
            f"re-save the file as UTF-8; found byte 0x{byte:02X}{guess}",
            code="encoding",
        ) from None
