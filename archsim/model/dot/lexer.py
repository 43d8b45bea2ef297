"""DOT tokenizer: one compiled master regex, tokens kept in flat parallel lists.

Positions are character offsets; line/column are derived only when a location is needed
(``Source.location``), via precomputed line starts and ``bisect``. Lexical errors are collected
(not raised) so the parser can report every problem of a file in one go.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from itertools import product

from archsim.errors import Diagnostic, DotSyntaxError, Location, Severity
from archsim.model.records import replacer

__all__ = [
    "KEYWORDS",
    "MAX_INPUT_BYTES",
    "MAX_LEX_ERRORS",
    "Comment",
    "Source",
    "Tokens",
    "check_size",
    "decode_dot",
    "is_bare_id",
    "read_dot_bytes",
    "tokenize",
    "unescape",
]

KEYWORDS = frozenset({"strict", "graph", "digraph", "node", "edge", "subgraph"})

#: Largest DOT input archsim reads (bytes). A 10,000-edge architecture is under 1 MB; past
#: this the parse alone would take tens of seconds and gigabytes (docs/model.md, "Limits").
MAX_INPUT_BYTES = 10 * 1024 * 1024
#: Lexical errors collected before lexing stops (the parser's cap, ``MAX_ERRORS``, is the same).
MAX_LEX_ERRORS = 50

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
# Every upper/lower-case spelling of a keyword (512 strings): an id is one when it is in the
# set, with no lower() for each of the ~40,000 ids of a 10,000-link file.
_KEYWORD_SPELLINGS = frozenset(
    "".join(chars) for word in KEYWORDS for chars in product(*((c, c.upper()) for c in word))
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


# ``Location(file, line, col)`` set through its slots (a copy of a blank one with every field
# replaced): the parser makes one per edge and attribute (30,000 at 10,000 links), and the frozen
# dataclass's ``__init__``, an ``object.__setattr__`` per field, is 0.7 µs of the 1 µs each took.
_located = replacer(Location, "file", "line", "col")
_BLANK = Location()


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
        return _located(_BLANK, self.file, line, pos - self.line_starts[line - 1] + 1)

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
        """Record a lexical error at an offset (at most ``MAX_LEX_ERRORS``; see ``full``)."""
        if self.full:
            return
        loc = self.source.location(pos)
        self.errors.append(Diagnostic(Severity.ERROR, message, loc, hint, code))

    @property
    def full(self) -> bool:
        """True once ``MAX_LEX_ERRORS`` errors are recorded: lexing stops there."""
        return len(self.errors) >= MAX_LEX_ERRORS


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
    # Every error family is capped: hostile input (a megabyte of junk) stops here, fast.
    return _stop(toks) if toks.full else m.end()


def _stop(toks: Tokens) -> int:
    """Mark where lexing gave up after ``MAX_LEX_ERRORS`` errors; -1 tells the lexer to stop."""
    toks.errors.append(
        Diagnostic(
            Severity.ERROR,
            f"too many errors ({MAX_LEX_ERRORS}); stopped here",
            toks.errors[-1].location,
            "fix the errors above and run again",
            "too-many-errors",
        )
    )
    return -1


def tokenize(source: Source, line_comments: bool = True) -> Tokens:
    """Split a DOT text into tokens; errors are collected in ``Tokens.errors``."""
    text = source.text
    toks = Tokens(source)
    kinds, values, positions = toks.kinds, toks.values, toks.positions
    kadd, vadd, padd = kinds.append, values.append, positions.append
    finditer = _MASTER.finditer
    keywords = _KEYWORD_SPELLINGS
    # Ids and strings repeat (a node is named by every edge it has): one string object each
    # (sys.intern), not one per mention: ~50 bytes an edge of the model and of the tree.
    intern = sys.intern
    pos = 1 if text.startswith("\ufeff") else 0
    finished = False
    while not finished:
        # finditer is the fast path; the rare tokens that move the cursor (HTML strings,
        # '//' when line comments are off) or stop lexing restart or end the iteration
        finished = True
        for m in finditer(text, pos):
            g = m.lastindex or 0  # every alternative of the pattern is a group: never None
            if g == 1:
                word = m.group(1)
                if word in keywords:
                    kadd("KW")
                    vadd(word.lower())
                else:
                    kadd("ID")
                    vadd(intern(word))
                padd(m.start(1))
            elif g == 4 or g == 3:
                tok = m.group(g)
                kadd(tok)
                vadd(tok)
                padd(m.start(g))
            elif g == 2:
                kadd("STR")
                body = m.group(2)
                vadd(intern(unescape(body[1:-1]) if "\\" in body else body[1:-1]))
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
    """Decode a DOT file's bytes as UTF-8 (a BOM is fine); raise ``DotSyntaxError`` for input
    over ``MAX_INPUT_BYTES``, UTF-16/32 text, NUL bytes or bytes that are not UTF-8."""
    check_size(len(data), file)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    wide = _wide_encoding(data)
    if wide is not None:
        raise DotSyntaxError(
            f"the file is {wide} text; archsim reads UTF-8",
            Location(file, 1, 1),
            f"re-save the file as UTF-8 (e.g. iconv -f {wide.split()[0]} -t UTF-8)",
            code="encoding",
        )
    nul = data.find(b"\0")
    if nul >= 0:
        good = data[:nul].decode("utf-8", errors="replace")
        line = good.count("\n") + 1
        col = len(good) - (good.rfind("\n") + 1) + 1
        raise DotSyntaxError(
            "the file contains NUL bytes (0x00): it is binary, not DOT text",
            Location(file, line, col),
            "pass a Graphviz DOT text file, saved as UTF-8",
            code="encoding",
        )
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


def check_size(size: int, file: str | None = None) -> None:
    """Raise ``DotSyntaxError`` when an input of ``size`` bytes is over ``MAX_INPUT_BYTES``."""
    if size > MAX_INPUT_BYTES:
        raise DotSyntaxError(
            f"the input is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB; "
            "archsim reads architectures up to that size",
            Location(file),
            "split the architecture into several files, or drop generated noise "
            "(a 10,000-link architecture takes under 1 MB)",
            code="too-large",
        )


def read_dot_bytes(path: str, file: str | None = None) -> bytes:
    """Read at most ``MAX_INPUT_BYTES`` (+1 to detect more) from ``path``; raise OSError as
    ``open`` does and ``DotSyntaxError`` when the file is larger (``/dev/zero`` included)."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_INPUT_BYTES + 1)
    check_size(len(data), file if file is not None else str(path))
    return data


def _wide_encoding(data: bytes) -> str | None:
    """Name UTF-16/UTF-32 text from its BOM, or from NULs in every other byte when it has none."""
    for bom, name in (
        (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
        (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
        (b"\xff\xfe", "UTF-16 (little-endian)"),
        (b"\xfe\xff", "UTF-16 (big-endian)"),
    ):
        if data.startswith(bom):
            return name
    head = data[:4096]
    if len(head) < 4 or b"\0" not in head:
        return None
    even, odd = head[0::2], head[1::2]
    # ASCII text in UTF-16 has a NUL in (nearly) every high byte and none in the low bytes.
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "UTF-16 (little-endian)"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "UTF-16 (big-endian)"
    return None
