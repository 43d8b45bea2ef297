"""Docs are tests: the console blocks of README.md and docs/*.md, parsed, run and compared.

A console block is a fenced block tagged ``console``; its ``$ command`` lines run in order (bash,
one temporary folder per page, holding a copy of ``examples/`` and ``topology.dot``, and
``benchmarks/``), and the
lines up to the next ``$`` are the output the page promises (stdout and stderr together);
variables a command sets carry over to the next, as in one shell.

Comparison: trailing spaces, runs of spaces and runs of a table-border character do not
count (figures of different widths realign a table); the temporary folder's path reads as ``.``.
In the page, a line that is only ``…`` stands for any number of lines, and ``…`` inside a line
for any text. An HTML comment on the line before the fence sets options for the block:
``<!-- docs-test: numbers -->`` (numbers vary: every number matches any number),
``<!-- docs-test: slow -->`` (a block that starts a stack or puts load on it: its page's test
is marked ``slow``, so ``pytest -m "not slow"`` leaves it out of a quick run; ``.ci/run`` runs
every page). No block is skipped (a test says so): output too long to re-run, such as a full
stepped run, is shown as a ``text`` block, recorded, and the page says so.

A ``pycon`` block is a Python session, as the interactive interpreter shows it: each ``>>> ``
line (with its ``... `` continuation lines) is one statement, the lines up to the next ``>>>``
what it prints (an expression's value as the interpreter echoes it, a traceback for an
exception). All the ``pycon`` blocks of a page run in one interpreter, in the page's folder,
so later blocks see the names earlier ones bound — a notebook read top to bottom.

A page whose block starts the seed's stack silently to use it (``archsim generate topology.dot
-o DIR >/dev/null && archsim up DIR --hash-rounds 1000 >/dev/null 2>&1``: dashboard.md,
loadtest.md) borrows the session's started seed stack instead (tests/conftest.py ``seed_stack``,
the same generated files and hashing): ``DIR`` is a link to it, and the page's ``archsim down
DIR`` gives it back — it prints ``stopped N processes``, N the stack's processes that still run,
and fails unless every one of them runs and is ready. One start for the session instead of one
a page (~10 s each on 2 cores). ``archsim down`` itself is run for real by the pages that start
their own stack (README, up.md, down.md, status.md, logs.md).

``ARCHSIM_UPDATE_DOCS=1`` rewrites the outputs that differ with what the program printed.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_BORDERS = re.compile(r"([─━═│┃┏┓┗┛┡┩┠┨╇╈┳┻┣┫╋┼┬┴├┤┌┐└┘╭╮╯╰])\1+")
_SPACES = re.compile(r"[ \t]+")
_TIMEOUT_S = 300
# the silent start of a stack that a page only uses, and its stop (see the module docstring)
_BORROW = re.compile(
    r"archsim generate topology\.dot -o (\S+) >/dev/null && "
    r"archsim up \1 --hash-rounds 1000 >/dev/null 2>&1"
)
_GIVE_BACK = re.compile(r"archsim down (\S+)")


@dataclass
class Command:
    """One ``$`` line of a block and the output the page shows for it."""

    text: str
    expected: list[str]
    line: int  # 0-based index of the ``$`` (or first ``>>>``) line in the page
    size: int = 1  # lines the command takes in the page (``...`` continuation lines)


@dataclass
class Block:
    """A console block of a page."""

    page: Path
    line: int
    options: set[str] = field(default_factory=set)
    commands: list[Command] = field(default_factory=list)
    lang: str = "console"  # or "pycon": a Python session

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line + 1}"


_PROMPTS = {"console": "$ ", "pycon": ">>> "}


def blocks(page: Path) -> list[Block]:
    """The console and pycon blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        lang = lines[i].strip().removeprefix("```")
        if not lines[i].strip().startswith("```") or lang not in _PROMPTS:
            i += 1
            continue
        options: set[str] = set()
        if i > 0 and (m := _DIRECTIVE.search(lines[i - 1])):
            options = set(m.group(1).split())
        block, prompt = Block(page, i, options, lang=lang), _PROMPTS[lang]
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            cmd = block.commands[-1] if block.commands else None
            if lines[i].startswith(prompt) or (lang == "pycon" and lines[i] == ">>>"):
                block.commands.append(Command(lines[i][len(prompt) :], [], i))
            elif (lang == "pycon" and cmd and not cmd.expected
                  and (lines[i].startswith("... ") or lines[i] == "...")):  # fmt: skip
                cmd.text += "\n" + lines[i][4:]
                cmd.size += 1
            elif cmd:
                cmd.expected.append(lines[i])
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
    # The positions in ``act`` reachable after each pattern (iterative: pages show thousands
    # of lines of output under a few wildcards).
    reach = {0}
    for pat in pats:
        if not reach:
            return False
        if pat is None:
            reach = set(range(min(reach), len(act) + 1))
        else:
            reach = {j + 1 for j in reach if j < len(act) and pat.match(act[j])}
    return len(act) in reach


class Session:
    """One page's folder and environment: commands run in it one after another."""

    def __init__(self, folder: Path, lend: Callable[[], Path] | None = None) -> None:
        """``lend``: gives the directory of the session's started seed stack, for the pages
        that borrow it (None: every page starts its own)."""
        self.folder = folder
        self.lend = lend
        self.borrowed: dict[str, Path] = {}  # name in the page's folder → the shared stack
        for item in (ROOT / "examples").iterdir():
            target = folder / item.name
            if item.is_dir():
                shutil.copytree(item, target)
            else:
                shutil.copy(item, target)
        shutil.copy(ROOT / "topology.dot", folder / "topology.dot")
        # The pages run the repository's scripts as a reader in a checkout would.
        (folder / "benchmarks").symlink_to(ROOT / "benchmarks", target_is_directory=True)
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

    _python: subprocess.Popen[bytes] | None = None

    def close(self) -> None:
        """Stop every stack the page's commands left running (a block that failed before its
        ``archsim down`` must not leave processes behind), and the page's interpreter."""
        if self._python is not None:
            self._python.kill()
            self._python.wait(timeout=30)
            self._python = None
        for name in list(self.borrowed):  # not stopped here: other pages use it
            (self.folder / name).unlink()
            del self.borrowed[name]
        for state in self.folder.glob("**/.archsim/state.json"):
            subprocess.run([sys.executable, "-m", "archsim", "down", str(state.parent.parent)],
                           env=self.env, capture_output=True, timeout=120, check=False)  # fmt: skip

    def run(self, command: str) -> list[str]:
        """Run one ``$`` line; its output lines (stdout and stderr as they interleave)."""
        if self.lend is not None and (m := _BORROW.fullmatch(command.strip())):
            return self._borrow(m.group(1))
        if (m := _GIVE_BACK.fullmatch(command.strip())) and m.group(1) in self.borrowed:
            return self._give_back(m.group(1))
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

    def _borrow(self, name: str) -> list[str]:
        """``name`` in the page's folder becomes the shared stack; prints nothing (the page's
        command sends its output to /dev/null)."""
        assert self.lend is not None
        (self.folder / name).symlink_to(self.lend(), target_is_directory=True)
        self.borrowed[name] = self.folder / name
        return []

    def _give_back(self, name: str) -> list[str]:
        """What ``archsim down`` prints for the borrowed stack, once every process of it is
        found running and ready; the link is removed, the stack keeps running."""
        from archsim.runtime import launcher

        state = launcher.status(self.borrowed.pop(name))
        (self.folder / name).unlink()
        if state is None:
            return [f"nothing running in {name}"]
        lines = [f"{i['instance']}: {i['state']}" for i in state["instances"]
                 if i["state"] != "ready"]  # fmt: skip
        running = [i for i in state["instances"] if i["state"] != "stopped"]
        return [*lines, f"stopped {len(running)} processes"]

    def run_python(self, statement: str) -> list[str]:
        """Run one ``>>>`` statement in the page's interpreter; what it printed (stdout and
        stderr together), as ``run`` gives it."""
        if self._python is None:
            self._python = subprocess.Popen(
                [sys.executable, "-u", "-c", _DRIVER], cwd=self.folder, env=self.env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
        proc = self._python
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(statement).encode() + b"\n")
        proc.stdin.flush()
        out, deadline = b"", time.monotonic() + _TIMEOUT_S
        while _SENTINEL not in out:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([proc.stdout], [], [], left)
            chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
            if not chunk:  # timed out, or the interpreter died
                self.close()
                return [*out.decode(errors="replace").splitlines(), "<interpreter stopped>"]
            out += chunk
        text = out[: out.index(_SENTINEL)].decode(errors="replace")
        text = text.replace(str(self.folder) + "/", "").replace(str(self.folder), ".")
        lines = [x.rstrip() for x in text.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return lines


_SENTINEL = b"\x00end-of-statement\x00"
# The page's interpreter: one JSON-encoded statement a line on stdin, run as the interactive
# interpreter runs it ("single" mode echoes an expression's value), then the sentinel.
_DRIVER = f"""
import json, sys, traceback
namespace = {{"__name__": "__main__"}}
for line in sys.stdin:
    try:
        exec(compile(json.loads(line) + "\\n", "<stdin>", "single"), namespace)
    except BaseException:
        traceback.print_exc(file=sys.stdout)
    sys.stdout.flush()
    sys.stdout.buffer.write({_SENTINEL!r})
    sys.stdout.buffer.flush()
"""


def update_page(page: Path, fixes: dict[int, list[str]], commands: dict[int, Command]) -> None:
    """Replace the output under each ``$`` line in ``fixes`` (index of the line) with the
    actual output."""
    lines = page.read_text(encoding="utf-8").splitlines()
    for index in sorted(fixes, reverse=True):
        cmd = commands[index]
        start = index + cmd.size
        end = start + len(cmd.expected)
        lines[start:end] = fixes[index]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
