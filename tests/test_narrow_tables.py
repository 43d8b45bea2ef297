"""compare, calibrate, sweep and plan in an 80-column terminal (issue 14): every line fits, no
figure is cut to ``4.3…`` or wrapped onto a line of its own (archsim.narrow); the recorded runs
of examples/runs/ are the measurements."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "topology.dot")
RUNS = ROOT / "examples" / "runs"


def narrow(cwd: Path, *args: str) -> str:
    """stdout of ``archsim ARGS`` at COLUMNS=80, checked to fit and to cut nothing."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "archsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and max(len(x.rstrip()) for x in lines) <= 80, proc.stdout
    assert "…" not in proc.stdout, proc.stdout
    # a wrapped cell leaves a line that is only the tail of a figure ("±18.7ms", "61%")
    tails = [x for x in lines if x.strip() and set(x) <= set(" │┃±.%0123456789msu")]
    assert not [x for x in tails if "±" in x or x.strip().endswith("%")], proc.stdout
    return proc.stdout


def test_compare_fits(tmp_path: Path):
    out = narrow(tmp_path, "compare", SEED, "--measured", str(RUNS / "closed20.json"))
    entries = json.loads((RUNS / "closed20.json").read_text())["endpoints"]
    lines = [x for x in out.splitlines() if x.startswith(("GET ", "POST "))]
    rows = {line.split("  ")[0]: line for line in lines}
    assert set(rows) == set(entries)
    assert all(row.count("/") >= 4 and "%" in row for row in rows.values()), out


def test_compare_knee_fits(tmp_path: Path):
    out = narrow(tmp_path, "compare", SEED, "--measured", str(RUNS / "steps.json"))
    steps = json.loads((RUNS / "steps.json").read_text())["steps"]
    for step in steps:
        assert re.search(rf"^\W*{step['offered_rps']:g}\W+\d", out, re.M), out


def test_calibrate_fits_and_shows_every_value_whole(tmp_path: Path):
    out = narrow(tmp_path, "calibrate", SEED, "--measured", str(RUNS / "low.json"),
                 "--measured", str(RUNS / "high.json"), "-o", "cal.yaml")  # fmt: skip
    profile = yaml.safe_load((tmp_path / "cal.yaml").read_text())
    values = [str(v) for section in ("components", "links") for attrs in profile[section].values()
              for v in attrs.values()]  # fmt: skip
    parts = [part for v in values for part in v.split("; ")]
    assert len(parts) > 20 and all(part in out for part in parts), out


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "mmc.dot", "--rps", "60..140:step=20", "--duration", "20s", "--replications",
         "3"],
        ["sweep", SEED, "--rps", "1500", "--set", "product_service.replicas=1..3", "--duration",
         "5s", "--replications", "3"],
    ],
    ids=["rate", "attribute"],
)  # fmt: skip
def test_sweep_fits(tmp_path: Path, args: list[str]):
    (tmp_path / "mmc.dot").write_text((ROOT / "examples" / "mmc.dot").read_text())
    out = narrow(tmp_path, *args)
    levels = [x for x in out.splitlines() if re.match(r"\s*\d+\s+\d", x)]
    assert len(levels) in (3, 5) and all(x.count("±") == 2 for x in levels), out


def test_plan_fits(tmp_path: Path):
    out = narrow(tmp_path, "plan", SEED, "--target-rps", "2000", "--slo", "p99<300ms")
    assert "MicroservicesArchitecture: plan for 2000 req/s, p99<300ms" in out.splitlines()
    assert re.search(r"^\W*p99\W.*<300ms.*±.*±", out, re.M), out
