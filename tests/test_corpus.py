"""Every architecture of the corpus (examples/architectures/, real public systems) and the
seed through archsim, as a user runs it: the model steps for all of them, the whole loop
(generate → up → one request per entry → Locust 10 users × 20 s → down) for three.

The steps are benchmarks/bench_corpus.py's, which runs the whole loop on every file and
prints the table; this test holds the suite to it. A (file, step) that does not pass yet is in
KNOWN with the reason, as a strict xfail: when it starts passing the test says so, and the
entry must go.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_corpus as corpus  # noqa: E402

MODEL_STEPS = ("validate", "analyze", "render", "simulate", "generate")
WHOLE_LOOP = ("sock-shop", "online-boutique", "kafka-orders")

# (file, step) → why it fails today, as a strict xfail: a fixed one must be removed from here
KNOWN: dict[tuple[str, str], str] = {
}


def _marks(name: str, step: str) -> list[pytest.MarkDecorator]:
    why = KNOWN.get((name, step))
    return [pytest.mark.xfail(reason=why, strict=True)] if why else []


FILES = corpus.corpus_files(include_seed=True)
MODEL_CASES = [
    pytest.param(path, step, id=f"{path.stem}-{step}", marks=_marks(path.stem, step))
    for path in FILES
    for step in MODEL_STEPS
]


@pytest.mark.parametrize(("path", "step"), MODEL_CASES)
def test_model_step(path: Path, step: str, tmp_path: Path) -> None:
    outcome = corpus._timed(corpus._SIMPLE[step], path, tmp_path)
    assert outcome.ok, f"{path.name} {step}: {outcome.reason}\n{outcome.detail[-3000:]}"


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(reason="a model step is KNOWN to fail", strict=True)]
            if any((name, step) in KNOWN for step in MODEL_STEPS)
            else [],
        )
        for name in WHOLE_LOOP
    ],
)
def test_whole_loop(name: str, tmp_path: Path) -> None:
    path = corpus.CORPUS / f"{name}.dot"
    steps = ("generate", "up", "requests", "loadtest", "down")
    result = corpus.run_file(path, steps, tmp_path, progress=lambda line: None)
    failed = {
        step: f"{o.reason}\n{o.detail[-2000:]}"
        for step, o in result.steps.items()
        if not o.ok and (name, step) not in KNOWN
    }
    assert not failed, f"{name}: " + "\n".join(f"{s}: {why}" for s, why in failed.items())
    fixed = [s for s, o in result.steps.items() if o.ok and (name, s) in KNOWN]
    assert not fixed, f"{name}: {fixed} pass now: remove them from KNOWN"
