"""The model's JSON (``archsim inspect FILE --json``) of the seed and every example architecture,
byte for byte against the copies in ``tests/model_golden/``.

They guard the loader's speed work (issue 17): a faster parse, validate or derive must build the
same model. A change that means to alter the model regenerates them and shows the difference in
review::

    ARCHSIM_UPDATE_GOLDEN=1 PYTHONPATH=$PWD python3 -m pytest -q tests/test_model_golden.py
    git diff --stat tests/model_golden/
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archsim.cli import app

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "model_golden"
EXAMPLES = (ROOT / "examples" / "architectures").glob("*.dot")
FILES = ["topology.dot", *sorted(p.relative_to(ROOT).as_posix() for p in EXAMPLES)]
UPDATE = os.environ.get("ARCHSIM_UPDATE_GOLDEN") == "1"

runner = CliRunner()


@pytest.mark.parametrize("file", FILES)
def test_inspect_json_is_unchanged(file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON of the model, as the CLI prints it, equals the stored copy."""
    monkeypatch.chdir(ROOT)  # the JSON holds the path as given
    result = runner.invoke(app, ["inspect", "--json", file])
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"{Path(file).stem}.json"
    if UPDATE:
        golden.write_text(result.stdout, encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    assert result.stdout == expected, (
        f"the model of {file} changed; if meant, regenerate (see this module's docstring)"
    )


def test_every_example_has_a_golden() -> None:
    """No stored copy without its file (a renamed example leaves none behind)."""
    assert {p.stem for p in GOLDEN.glob("*.json")} == {Path(f).stem for f in FILES}
