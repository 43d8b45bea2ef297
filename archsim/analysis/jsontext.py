"""Indented JSON text for big documents, byte for byte what the CLI's ``print_json`` writes.

``json.dumps(..., indent=2)`` falls back to the standard library's pure-Python encoder (the C
encoder only serves ``indent=None``); on an analysis of 2,000 components that is 60 MB of text
and about a second. This builds the same text with one ``str.join`` per container and the C
string encoder, so the long lists of entry ids in the blast radius cost almost nothing.
"""

from __future__ import annotations

import json.encoder
from typing import Any

__all__ = ["dumps_indented", "encode_indented"]

_INDENT = "  "
# The C string encoder when available, as ``json.dumps(..., ensure_ascii=False)`` uses it.
_encode_str = json.encoder.encode_basestring


def dumps_indented(obj: Any) -> str:
    """The text ``json.dumps(obj, indent=2, ensure_ascii=False, default=str)`` returns."""
    writer = _Writer()
    writer.dump(obj, 0)
    return "".join(writer.out)  # one copy of the text: nested concatenation copies it per level


def encode_indented(obj: Any) -> bytes:
    """``dumps_indented(obj)`` encoded as UTF-8, for writing out."""
    writer = _Writer()
    writer.dump(obj, 0)
    # Chunk by chunk: one arrow in a message would make a joined str two bytes per character
    # (tens of MB more to build and then encode); ASCII chunks encode as plain copies.
    return b"".join([chunk.encode("utf-8") for chunk in writer.out])


class _Writer:
    """Chunks of the text, and each string's JSON form (entry ids repeat thousands of times)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.strings: dict[str, str] = {}
        self.keys: dict[Any, str] = {}  # dict keys as text, with the ": " after them

    def dump(self, obj: Any, level: int) -> None:
        # The order of the tests follows json.encoder: str, None, bools, int, float, containers.
        out = self.out
        if isinstance(obj, str):
            out.append(_encode_str(obj))
        elif obj is None or obj is True or obj is False or isinstance(obj, (int, float)):
            out.append(_scalar(obj))
        elif isinstance(obj, (list, tuple)):
            if not obj:
                out.append("[]")
                return
            inner = "\n" + _INDENT * (level + 1)
            out.append("[" + inner)
            strings = self._strings(obj, "," + inner)
            if strings is not None:
                out.append(strings)
            else:
                for i, item in enumerate(obj):
                    if i:
                        out.append("," + inner)
                    self.dump(item, level + 1)
            out.append("\n" + _INDENT * level + "]")
        elif isinstance(obj, dict):
            if not obj:
                out.append("{}")
                return
            inner = "\n" + _INDENT * (level + 1)
            out.append("{" + inner)
            keys = self.keys
            for i, (key, value) in enumerate(obj.items()):
                name = keys.get(key) if isinstance(key, str) else None
                if name is None:
                    name = keys[key] = _key(key) + ": "
                head = ("," + inner + name) if i else name
                kind = type(value)
                if kind is str:  # inline the common leaves: a call per value adds up
                    out.append(head + _encode_str(value))
                elif kind is float or kind is int:
                    out.append(head + _scalar(value))
                else:
                    out.append(head)
                    self.dump(value, level + 1)
            out.append("\n" + _INDENT * level + "}")
        else:
            self.dump(str(obj), level)  # default=str

    def _strings(self, items: list[Any] | tuple[Any, ...], sep: str) -> str | None:
        """``items`` joined by ``sep`` when they are all strings (None otherwise), in C loops."""
        known = self.strings
        try:
            return sep.join(map(known.__getitem__, items))
        except KeyError:  # strings not seen yet (or not strings at all)
            pass
        except TypeError:  # unhashable: not strings
            return None
        try:
            for item in items:
                if item not in known:
                    known[item] = _encode_str(item)
        except TypeError:
            return None
        return sep.join(map(known.__getitem__, items))


def _scalar(value: bool | int | float | None) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return _float(value)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """Dict keys as json.encoder converts them (anything else is a TypeError there too)."""
    if isinstance(key, str):
        return _encode_str(key)
    if isinstance(key, float):
        return _encode_str(_float(key))
    if key is True or key is False or key is None:
        return _encode_str(json.dumps(key))
    if isinstance(key, int):
        return _encode_str(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
