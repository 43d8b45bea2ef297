"""Docs are tests: the console blocks of README.md and docs/*.md, parsed, run and compared.

A console block is a fenced block tagged ``console``; its ``$ command`` lines run in order (bash,
one temporary folder per page, holding a copy of ``examples/`` and ``topology.dot``), and the
lines up to the next ``$`` are the output the page promises (stdout and stderr together);
variables a command sets carry over to the next, as in one shell.

Comparison: trailing spaces, runs of spaces and runs of a table-border character do not
count (figures of different widths realign a table); the temporary folder's path reads as ``.``.
In the page, a line that is only ``…`` stands for any number of lines, and ``…`` inside a line
for any text. An HTML comment on the line before the fence sets options for the block:
``<!-- docs-test: numbers -->`` (numbers vary: every number matches any number),
``<!-- docs-test: slow -->`` (runs in the slow group), ``<!-- docs-test: skip REASON -->``.

``ARCHSIM_UPDATE_DOCS=1`` rewrites the outputs that differ with what the program printed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_BORDERS = re.compile(r"([─━═│┃┏┓┗┛┡┩┠┨╇╈┳┻┣┫╋┼┬┴├┤┌┐└┘╭╮╯╰])\1+")
_SPACES = re.compile(r"[ \t]+")
_TIMEOUT_S = 300


@dataclass
class Command:
    """One ``$`` line of a block and the output the page shows for it."""

    text: str
    expected: list[str]
    line: int  # 0-based index of the ``$`` line in the page


@dataclass
class Block:
    """A console block of a page."""

    page: Path
    line: int
    options: set[str] = field(default_factory=set)
    commands: list[Command] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line + 1}"


def blocks(page: Path) -> list[Block]:
    """The console blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        options: set[str] = set()
        if i > 0 and (m := _DIRECTIVE.search(lines[i - 1])):
            options = set(m.group(1).split())
        block = Block(page, i, options)
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            if lines[i].startswith("$ "):
                block.commands.append(Command(lines[i][2:], [], i))
            elif block.commands:
                block.commands[-1].expected.append(lines[i])
            i += 1
        for cmd in block.commands:
            while cmd.expected and not cmd.expected[-1].strip():
                cmd.expected.pop()
        found.append(block)
        i += 1
    return found


def normalise(line: str, numbers: bool) -> str:
    """A line as compared: spacing and border lengths do not count; numbers if asked."""
    text = _BORDERS.sub(r"\1", line.rstrip())
    text = _SPACES.sub(" ", text).strip()
    return _NUMBER.sub("0", text) if numbers else text


def _line_regex(expected: str, numbers: bool) -> re.Pattern[str]:
    parts = [re.escape(normalise(p, numbers)) for p in expected.split("…")]
    return re.compile(".*".join(parts) + r"\Z" if len(parts) > 1 else parts[0] + r"\Z")


def matches(expected: list[str], actual: list[str], numbers: bool) -> bool:
    """Whether ``actual`` is what ``expected`` promises (``…`` lines are wildcards)."""
    exp = [e for e in expected if e.strip()]
    act = [normalise(a, numbers) for a in actual if a.strip()]
    pats = [None if e.strip() == "…" else _line_regex(e, numbers) for e in exp]
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        if (i, j) in memo:
            return memo[i, j]
        if i == len(pats):
            ok = j == len(act)
        elif pats[i] is None:
            ok = go(i + 1, j) or (j < len(act) and go(i, j + 1))
        else:
            ok = j < len(act) and bool(pats[i].match(act[j])) and go(i + 1, j + 1)
        memo[i, j] = ok
        return ok

    return go(0, 0)


class Session:
    """One page's folder and environment: commands run in it one after another."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for item in (ROOT / "examples").iterdir():
            target = folder / item.name
            if item.is_dir():
                shutil.copytree(item, target)
            else:
                shutil.copy(item, target)
        shutil.copy(ROOT / "topology.dot", folder / "topology.dot")
        bindir = folder / ".bin"
        bindir.mkdir()
        wrapper = bindir / "archsim"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m archsim "$@"\n')
        wrapper.chmod(0o755)
        self.env = dict(os.environ)
        self.env.update(PATH=f"{bindir}{os.pathsep}{self.env.get('PATH', '')}",
                        PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", COLUMNS="80",
                        NO_COLOR="1", TERM="dumb")  # fmt: skip
        self.env.pop("ARCHSIM_DOT", None)

    def close(self) -> None:
        """Stop every stack the page's commands left running (a block that failed before its
        ``archsim down`` must not leave processes behind)."""
        for state in self.folder.glob("**/.archsim/state.json"):
            subprocess.run([sys.executable, "-m", "archsim", "down", str(state.parent.parent)],
                           env=self.env, capture_output=True, timeout=120, check=False)  # fmt: skip

    def run(self, command: str) -> list[str]:
        """Run one ``$`` line; its output lines (stdout and stderr as they interleave)."""
        # Variables a command sets (FRONT=$(...)) carry over to the next, as in one shell.
        envfile = self.folder / ".env.sh"
        script = (f'set -a; [ -f "{envfile}" ] && . "{envfile}"\n{command}\n'
                  f'__rc=$?; export -p | grep -v -E " (PWD|OLDPWD|SHLVL|_)=" > "{envfile}"; '
                  'exit $__rc')  # fmt: skip
        proc = subprocess.run(["bash", "-c", script], cwd=self.folder, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=_TIMEOUT_S, check=False)  # fmt: skip
        out = proc.stdout.replace(str(self.folder) + "/", "").replace(str(self.folder), ".")
        lines = [x.rstrip() for x in out.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return lines


def update_page(page: Path, fixes: dict[int, list[str]], commands: dict[int, Command]) -> None:
    """Replace the output under each ``$`` line in ``fixes`` (index of the line) with the
    actual output."""
    lines = page.read_text(encoding="utf-8").splitlines()
    for index in sorted(fixes, reverse=True):
        cmd = commands[index]
        start, end = index + 1, index + 1 + len(cmd.expected)
        lines[start:end] = fixes[index]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
