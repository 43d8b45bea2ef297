"""Every console block of README.md and docs/*.md runs, and prints what the page shows
(tests/docs_blocks.py says how blocks are read and compared). A page that drifts from the program
fails; ``ARCHSIM_UPDATE_DOCS=1 python3 -m pytest tests/test_docs.py`` rewrites its outputs."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from docs_blocks import PAGES, ROOT, Command, Session, blocks, matches, update_page

UPDATE = os.environ.get("ARCHSIM_UPDATE_DOCS") == "1"
WITH_BLOCKS = [p for p in PAGES if blocks(p)]
# A page with a ``slow`` block (it starts a stack or puts load on it) is a ``slow`` test:
# ``pytest -m "not slow"`` leaves it out for a quick run; CI runs everything.
PAGE_PARAMS = [
    pytest.param(p, marks=[pytest.mark.slow] if any("slow" in b.options for b in blocks(p)) else [],
                 id=str(p.relative_to(ROOT)))
    for p in WITH_BLOCKS
]  # fmt: skip


def test_the_harness_reads_the_pages():
    """The pages this suite promises to check have console blocks, and the examples they use
    ship in examples/."""
    names = {p.name for p in WITH_BLOCKS}
    assert {"README.md", "validate.md", "fmt.md", "inspect.md"} <= names
    for name in ("seed.dot", "bad.dot", "loop.dot"):
        assert (ROOT / "examples" / name).is_file(), name
    skipped = [b.name for p in WITH_BLOCKS for b in blocks(p) if "skip" in b.options]
    assert not skipped, f"every console block runs; skipped: {skipped}"


def test_wildcards_and_normalising():
    assert matches(["a", "…", "d"], ["a", "b", "c", "d"], numbers=False)
    assert matches(["x: … ms"], ["x: 12 ms"], numbers=False)
    assert not matches(["a", "d"], ["a", "b", "d"], numbers=False)
    assert matches(["│ a │  1.5 │"], ["│ a      │ 1.5 │"], numbers=False)
    assert not matches(["took 1.5s"], ["took 2.5s"], numbers=False)
    assert matches(["took 1.5s"], ["took 2.5s"], numbers=True)


@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_page_console_blocks(page: Path, tmp_path: Path, request: pytest.FixtureRequest):
    # the session's seed stack, started only when a page borrows it (tests/docs_blocks.py)
    session = Session(tmp_path, lend=lambda: request.getfixturevalue("seed_stack")[0])
    failures: list[str] = []
    fixes: dict[int, list[str]] = {}
    commands: dict[int, Command] = {}
    try:
        for block in blocks(page):
            if "skip" in block.options:
                continue
            run = session.run_python if block.lang == "pycon" else session.run
            for cmd in block.commands:
                actual = run(cmd.text)
                if matches(cmd.expected, actual, numbers="numbers" in block.options):
                    continue
                fixes[cmd.line], commands[cmd.line] = actual, cmd
                diff = "\n".join(difflib.unified_diff(cmd.expected, actual, "page", "actual",
                                                      lineterm=""))  # fmt: skip
                prompt = ">>>" if block.lang == "pycon" else "$"
                failures.append(f"{page.name}:{cmd.line + 1}: {prompt} {cmd.text}\n{diff}")
    finally:
        session.close()
    if UPDATE and fixes:
        update_page(page, fixes, commands)
        return
    assert not failures, "\n\n".join(failures)


def test_pycon_blocks_run_in_one_interpreter(tmp_path: Path):
    """A ``pycon`` block is a Python session: statements (with ``...`` lines) share names
    across blocks of the page, and what a statement prints is compared like a command's."""
    page = tmp_path / "page.md"
    page.write_text("```pycon\n>>> x = 2\n>>> for i in range(2):\n...     print(i * x)\n0\n2\n"
                    "```\n\n```pycon\n>>> x + 1\n3\n>>> 1 / 0\nTraceback (most recent call "
                    "last):\n…\nZeroDivisionError: division by zero\n```\n")  # fmt: skip
    first, second = blocks(page)
    assert (first.lang, [c.size for c in first.commands]) == ("pycon", [1, 2])
    (tmp_path / "session").mkdir()
    session = Session(tmp_path / "session")
    try:
        for cmd in [*first.commands, *second.commands]:
            actual = session.run_python(cmd.text)
            assert matches(cmd.expected, actual, numbers=False), (cmd.text, actual)
        assert not matches(["4"], session.run_python("x + 1"), numbers=False)
    finally:
        session.close()
