"""Benchmark: every architecture of the corpus through the whole loop, as a user runs it.

For each file of ``examples/architectures/`` (and the seed ``topology.dot``) the steps below run
one after the other with the CLI (``archsim ...`` in a subprocess, each bounded by a timeout),
and a table architecture × step shows ✓ / ✗ with a short reason; the full reason of every ✗
follows the table.

- ``validate``: ``archsim validate`` accepts the file, the model has ≥ 1 entry point, no entry
  sits on a traffic source (a node with no inbound link that only ``calls``/``uses`` others:
  "Browser", "loadgenerator") and every target of a traffic source is where an entry starts.
- ``analyze``: ``archsim analyze`` runs (exit 0, or 1 for findings; 2 or a traceback fails).
- ``render``: ``archsim render`` writes a non-empty .svg, .png and .html.
- ``simulate``: ``archsim simulate --rps 50 --duration 5s`` (one replication).
- ``generate``: ``archsim generate``, then ``ruff check`` of the generated code.
- ``up``: ``archsim up`` reaches ready.
- ``requests``: one request per entry route through the front door answers 2xx. The requests
  are the generated ``locustfile.py``'s own: its user is started once (sign-up, login, one
  item of every resource it will read), then sends each entry once (``_send``), in a separate
  process (Locust monkey-patches the process it runs in).
- ``loadtest``: ``archsim loadtest --users 10 --duration 20s``: < 1% failed requests, every
  entry of the model exercised, and event handlers failing no more than 1% of the requests
  (their "event handler failed" log lines).
- ``down``: ``archsim down`` leaves 0 processes of the stack (pids of its state file and any
  process whose environment names the stack); leftovers are reported, then killed by pid.

Usage: ``python benchmarks/bench_corpus.py [FILE.dot ...] [--only sock-shop,bookinfo]
[--steps validate,simulate] [--json] [--workdir DIR]``
(files given: those instead of the corpus). Exit 0 when every step that ran passed, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "examples" / "architectures"
SEED = ROOT / "topology.dot"
# the stacks are load-tested: password hashing lowered as archsim loadtest --up does
LOAD_TEST_ROUNDS = 1_000

__all__ = [
    "STEPS",
    "Outcome",
    "corpus_files",
    "entries_check",
    "main",
    "probe_entries",
    "run_file",
]

STEPS = (
    "validate",
    "analyze",
    "render",
    "simulate",
    "generate",
    "up",
    "requests",
    "loadtest",
    "down",
)
#: Seconds each step may take before it counts as failed (a hang is a failure too).
TIMEOUTS = {
    "validate": 60,
    "analyze": 120,
    "render": 120,
    "simulate": 240,
    "generate": 120,
    "up": 180,
    "requests": 180,
    "loadtest": 120,
    "down": 60,
}
UP_TIMEOUT_S = 150  # archsim up --timeout: readiness wait inside the step's own bound
LOAD_USERS = 10
LOAD_DURATION = "20s"
MAX_FAIL_RATIO = 0.01
_ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
_SOURCE_RELATIONS = {"calls", "uses"}


@dataclass
class Outcome:
    """Result of one step: ``ok`` None when it did not run (skipped)."""

    ok: bool | None
    reason: str = ""
    detail: str = ""
    seconds: float = 0.0


@dataclass
class FileResult:
    """Every step's outcome for one architecture file."""

    name: str
    path: str
    steps: dict[str, Outcome] = field(default_factory=dict)


def corpus_files(include_seed: bool = True) -> list[Path]:
    """The corpus files, sorted by name, then the seed."""
    files = sorted(CORPUS.glob("*.dot"))
    return files + ([SEED] if include_seed and SEED.exists() else [])


def _env() -> dict[str, str]:
    """The environment of every subprocess: this checkout first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("NO_COLOR", "1")
    env["COLUMNS"] = "200"
    return env


def _clean(text: str) -> str:
    """Output without colour codes, paths shown relative to this checkout."""
    return _ANSI.sub("", text or "").replace(f"{ROOT}/", "").strip()


def _archsim(*args: str, timeout: float) -> tuple[int | None, str]:
    """Run ``archsim ARGS`` (this checkout); exit code (None on timeout) and its output."""
    cmd = [sys.executable, "-c", "from archsim.cli import main; main()", *args]
    return _run(cmd, timeout=timeout)


def _run(
    cmd: list[str], timeout: float, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int | None, str]:
    # own process group: a timeout kills what the command started too
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**_env(), **(env or {})},
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, _clean(out)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, _clean(out) + f"\n[timed out after {timeout:.0f}s]"


def _first_problem(text: str) -> str:
    """The line of an output that says what went wrong: a traceback's last line, the first
    ``error:`` line, else the last non-empty line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "no output"
    if any(ln.startswith("Traceback") for ln in lines):
        for ln in reversed(lines):
            if re.match(r"^[A-Za-z_.]+(Error|Exception|Exit)\b", ln):
                return ln
    for ln in lines:
        if "error:" in ln or ln.startswith(("✗", "error", "Error")):
            return ln
    return lines[-1]


def _short(text: str, width: int = 70) -> str:
    text = re.sub(r"^(exit \S+ )?\S+\.dot:(?=\d)", r"\1line ", " ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _fail(reason: str, detail: str = "") -> Outcome:
    return Outcome(False, reason, detail)


# -- validate: the file is usable and traffic enters where the graph says -------------------


def traffic_sources(arch) -> list[str]:
    """Components with no inbound link whose every link is an outgoing ``calls``/``uses``:
    clients drawn as nodes ("Browser", "loadgenerator"), where requests come from; not a front
    end (a gateway or load balancer by the model), which is where they enter."""
    inbound = {ln.target for ln in arch.links}
    sources = []
    for comp in arch.components:
        out = [ln for ln in arch.links if ln.source == comp.id]
        if comp.id in inbound or not out or comp.kind.value in ("gateway", "load_balancer"):
            continue  # a front end nothing links to is the front door (docs/behaviour.md, Kinds)
        if all(ln.relation.label in _SOURCE_RELATIONS for ln in out):
            sources.append(comp.id)
    return sources


def entries_check(path: Path) -> Outcome:
    """≥ 1 entry; none on a traffic source; every traffic source's target starts an entry."""
    sys.path.insert(0, str(ROOT))
    from archsim.errors import ArchsimError
    from archsim.model import load

    try:
        arch = load(path).architecture
    except ArchsimError as exc:
        return _fail(_short(str(exc)), str(exc))
    entries = arch.behaviour.entries
    summary = ", ".join(f"{e.id} on {e.hops[0] if e.hops else e.target.component}" for e in entries)
    if not entries:
        return _fail("0 entry points", "the model derives no entry point")
    sources = traffic_sources(arch)
    starts = {e.hops[0] if e.hops else e.target.component for e in entries}
    on_source = sorted(starts & set(sources))
    if on_source:
        return _fail(
            f"entry on traffic source {', '.join(on_source)}",
            f"{len(entries)} entries: {summary}",
        )
    missing = sorted(
        {ln.target for ln in arch.links if ln.source in sources and ln.target not in starts}
    )
    if missing:
        return _fail(
            f"client's target not an entry: {', '.join(missing)}",
            f"traffic sources {sources}; {len(entries)} entries: {summary}",
        )
    return Outcome(True, f"{len(entries)} entries", summary)


def step_validate(path: Path, work: Path) -> Outcome:
    rc, out = _archsim("validate", str(path), timeout=TIMEOUTS["validate"])
    if rc != 0:
        return _fail(_short(_first_problem(out)), out[-3000:])
    return entries_check(path)


def step_analyze(path: Path, work: Path) -> Outcome:
    rc, out = _archsim("analyze", str(path), "--json", timeout=TIMEOUTS["analyze"])
    if rc not in (0, 1) or "Traceback" in out:
        return _fail(_short(f"exit {rc}: {_first_problem(out)}"), out[-3000:])
    try:
        findings = json.loads(out).get("findings", [])
        return Outcome(True, f"{len(findings)} findings")
    except (ValueError, AttributeError):
        return Outcome(True, f"exit {rc}")


def step_render(path: Path, work: Path) -> Outcome:
    bad = []
    for ext in ("svg", "png", "html"):
        target = work / f"{path.stem}.{ext}"
        rc, out = _archsim("render", str(path), "-o", str(target), timeout=TIMEOUTS["render"])
        if rc != 0 or not target.exists() or target.stat().st_size == 0:
            bad.append(f"{ext}: exit {rc}: {_first_problem(out)}")
    if bad:
        return _fail(_short("; ".join(bad)), "\n".join(bad))
    return Outcome(True, "svg png html")


def step_simulate(path: Path, work: Path) -> Outcome:
    args = ["--rps", "50", "--duration", "5s", "--warmup", "1s", "--replications", "1"]
    rc, out = _archsim(
        "simulate", str(path), *args, "--jobs", "1", "--json", timeout=TIMEOUTS["simulate"]
    )
    if rc != 0:
        return _fail(_short(f"exit {rc}: {_first_problem(out)}"), out[-3000:])
    return Outcome(True, "50 rps × 5s")


def step_generate(path: Path, work: Path) -> Outcome:
    stack = work / path.stem
    rc, out = _archsim("generate", str(path), "-o", str(stack), timeout=TIMEOUTS["generate"])
    if rc != 0:
        return _fail(_short(f"exit {rc}: {_first_problem(out)}"), out[-3000:])
    warnings = [ln for ln in out.splitlines() if "warning" in ln.lower()]
    ruff = shutil.which("ruff")
    cmd = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    rc, lint = _run(
        [*cmd, "check", "--no-cache", "-q", "--output-format", "concise", str(stack)],
        timeout=120,
    )
    if rc != 0:
        found = [ln.replace(f"{stack}/", "") for ln in lint.splitlines() if ": " in ln]
        codes = Counter(ln.split(": ", 1)[1].split()[0] for ln in found)
        head = ", ".join(f"{n}× {c}" for c, n in codes.most_common())
        return _fail(_short(f"ruff: {head}; {found[0] if found else lint}"), "\n".join(found))
    note = f"{len(warnings)} warnings" if warnings else "ruff clean"
    return Outcome(True, note, "\n".join(warnings))


def _state(stack: Path) -> dict:
    try:
        return json.loads((stack / ".archsim" / "state.json").read_text())
    except (OSError, ValueError):
        return {}


def _not_ready(stack: Path) -> str:
    """The instances that did not get ready, with their log's last line."""
    parts = []
    for inst in _state(stack).get("instances", []):
        if inst.get("state") == "ready":
            continue
        tail = ""
        with contextlib.suppress(OSError, KeyError, IndexError):
            tail = Path(inst["log"]).read_text().strip().splitlines()[-1]
        parts.append(f"{inst.get('instance')} {inst.get('state')}: {tail[:300]}")
    return "\n".join(parts)


_LOG_ERROR = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception): [^\"\\\n]+)")


def _log_errors(stack: Path) -> list[str]:
    """The last exception line of each instance log that has one: 'instance: Error: text'."""
    found = []
    for log in sorted((stack / ".archsim" / "logs").glob("*.log")):
        with contextlib.suppress(OSError):
            hits = _LOG_ERROR.findall(log.read_text(errors="replace").replace("\\n", "\n"))
            if hits:
                found.append(f"{log.stem}: {hits[-1].strip()}")
    return found


def _handler_failures(stack: Path) -> tuple[int, str]:
    """Event handlers that failed (logged "event handler failed"), and the first failed call's
    cause in the same log: a load test's requests can all pass while its consumers fail."""
    count, cause = 0, ""
    for log in sorted((stack / ".archsim" / "logs").glob("*.log")):
        with contextlib.suppress(OSError):
            for line in log.read_text(errors="replace").splitlines():
                if "event handler failed" in line:
                    count += 1
                elif not cause and '"call_failed"' in line:
                    with contextlib.suppress(ValueError):
                        cause = f"{log.stem}: {json.loads(line).get('cause', '')}"
    return count, cause


def step_up(path: Path, work: Path) -> Outcome:
    stack = work / path.stem
    rc, out = _archsim(
        "up",
        str(stack),
        "--timeout",
        str(UP_TIMEOUT_S),
        "--json",
        "--hash-rounds",
        str(LOAD_TEST_ROUNDS),
        timeout=TIMEOUTS["up"],
    )
    if rc != 0:
        errors = _log_errors(stack)
        detail = "\n".join([out[-2000:], _not_ready(stack), *errors])
        cause = f" {errors[0].split(': ', 1)[1]}" if errors else ""
        return _fail(_short(f"exit {rc}: {_first_problem(out)}{cause}", 110), detail)
    state = _state(stack)
    n = len(state.get("instances", []))
    return Outcome(True, f"{n} processes", f"front door {state.get('front_door')}")


# -- requests: one request per entry, exactly as the generated locustfile sends it ----------

_PROBE = r"""
import importlib.util, json, sys
import locust
from locust.env import Environment

stack, host = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("stack_locustfile", stack + "/locustfile.py")
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
seen = []

def record(name, response=None, exception=None, request_type="", **kw):
    status = getattr(response, "status_code", None)
    text = ""
    try:
        text = (response.text or "")[:300]
    except Exception:
        pass
    seen.append({"name": name, "method": request_type, "status": status,
                 "error": str(exception) if exception else "", "body": text})

locust.events.request.add_listener(record)
mod.ArchitectureUser.host = host
mod.ArchitectureUser.network_timeout = 15.0
mod.ArchitectureUser.connection_timeout = 5.0
env = Environment(user_classes=[mod.ArchitectureUser], host=host, events=locust.events)
user = mod.ArchitectureUser(env)
setup_error = ""
try:
    user.on_start()
except Exception as exc:
    setup_error = f"{type(exc).__name__}: {exc}"
setup = list(seen)
results = {}
for entry in mod.ENTRIES:
    seen.clear()
    try:
        user._send(entry)
    except Exception as exc:
        results[entry] = {"status": None, "error": f"{type(exc).__name__}: {exc}", "body": ""}
        continue
    mine = [r for r in seen if r["name"] == entry] or seen
    results[entry] = mine[-1] if mine else {"status": None, "error": "no request sent", "body": ""}
print(json.dumps({"setup": setup, "setup_error": setup_error, "entries": results}))
"""


def probe_entries(stack: Path, timeout: float = 120) -> dict:
    """Start the generated locustfile's user once against the running stack, send every entry
    once; ``{"setup": [...], "entries": {entry: {status, error, body}}}``."""
    front = _state(stack).get("front_door")
    if not front:
        raise RuntimeError(f"{stack} is not running (no front door in its state file)")
    from archsim.loadtest.stack_state import doors
    from archsim.runtime.auth import ENTRY_CLIENT
    from archsim.runtime.launcher import client_authorization

    state, manifest = _state(stack), json.loads((stack / "stack.json").read_text())
    env = {
        "ARCHSIM_DOORS": json.dumps(doors(manifest, state)),  # each entry to its own door
        "ARCHSIM_CLIENT_AUTH": client_authorization(stack, ENTRY_CLIENT) or "",
    }
    rc, out = _run([sys.executable, "-c", _PROBE, str(stack), front], timeout=timeout, env=env)
    last = out.strip().splitlines()[-1] if out.strip() else ""
    try:
        return json.loads(last)
    except ValueError:
        raise RuntimeError(f"probe failed (exit {rc}): {_first_problem(out)}") from None


def step_requests(path: Path, work: Path) -> Outcome:
    stack = work / path.stem
    try:
        probe = probe_entries(stack, timeout=TIMEOUTS["requests"])
    except RuntimeError as exc:
        return _fail(_short(str(exc)), str(exc))
    entries = probe["entries"]
    bad = {k: v for k, v in entries.items() if (v.get("status") or 0) // 100 != 2}
    setup_bad = [r for r in probe["setup"] if (r.get("status") or 0) // 100 != 2]
    lines = [
        f"{k}: {v.get('status')} {v.get('error') or ''} {v.get('body', '')[:200]}".strip()
        for k, v in bad.items()
    ]
    lines += [
        f"set-up {r['method']} {r['name']}: {r['status']} {r['body'][:200]}" for r in setup_bad
    ]
    if probe.get("setup_error"):
        lines.append(f"set-up raised {probe['setup_error']}")
    if bad or not entries:
        first = next(iter(bad.items()), None)
        head = f"{len(bad)}/{len(entries)} entries not 2xx"
        if first:
            head += f"; {first[0]} → {first[1].get('status')} {first[1].get('body', '')}"
        return _fail(_short(head), "\n".join(lines))
    return Outcome(True, f"{len(entries)}/{len(entries)} 2xx", "\n".join(lines))


def _requests_sent(out_dir: Path) -> dict[str, int]:
    """Requests per entry over the whole run, warm-up included (Locust's stats CSV): an entry
    sent only while users start (sign-up, set-up) still counts as exercised."""
    sent: dict[str, int] = {}
    try:
        with open(out_dir / "locust_stats.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("Name") and row.get("Name") != "Aggregated":
                    sent[row["Name"]] = int(row.get("Request Count") or 0)
    except (OSError, ValueError):
        return {}
    return sent


def _top_errors(out_dir: Path) -> dict[str, str]:
    """The most frequent failure message of each entry, from Locust's failures CSV."""
    counts: dict[str, Counter] = {}
    try:
        with open(out_dir / "locust_failures.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                name, err = row.get("Name", ""), row.get("Error", "")
                counts.setdefault(name, Counter())[err] += int(row.get("Occurrences", 1) or 1)
    except OSError:
        return {}
    return {name: c.most_common(1)[0][0] for name, c in counts.items() if c}


def step_loadtest(
    path: Path, work: Path, duration: str = LOAD_DURATION, warmup: str | None = None
) -> Outcome:
    """``archsim loadtest`` with LOAD_USERS users: < 1% failed, every model entry sent."""
    stack = work / path.stem
    out_dir = work / f"{path.stem}-loadtest"
    extra = ["--warmup", warmup] if warmup else []
    rc, out = _archsim(
        "loadtest",
        str(stack),
        "--users",
        str(LOAD_USERS),
        "--duration",
        duration,
        *extra,
        "-o",
        str(out_dir),
        timeout=TIMEOUTS["loadtest"],
    )
    try:
        summary = json.loads((out_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return _fail(_short(f"exit {rc}: {_first_problem(out)}"), out[-3000:])
    endpoints = summary.get("endpoints", {})
    total = summary.get("total", {})
    ratio = float(total.get("fail_ratio", 0.0) or 0.0)
    sent = _requests_sent(out_dir)
    unexercised = [
        e
        for e in summary.get("entries_model", [])
        if not (sent.get(e) or endpoints.get(e, {}).get("requests"))
    ]
    errors = _top_errors(out_dir)
    failing = {k: v for k, v in endpoints.items() if (v.get("fail_ratio") or 0) > MAX_FAIL_RATIO}
    lines = [
        f"{k}: {v['fail_ratio']:.1%} of {v['requests']} failed; most frequent: {errors.get(k, '?')}"
        for k, v in failing.items()
    ]
    if unexercised:
        lines.append("not exercised: " + ", ".join(unexercised))
    lines.append(f"archsim loadtest exit {rc}")
    problems = []
    if ratio >= MAX_FAIL_RATIO:
        problems.append(f"{ratio:.1%} failed")
    if unexercised:
        problems.append(f"{len(unexercised)} entries not exercised")
    if rc not in (0, 1):
        problems.append(f"exit {rc}")
    handler_failures, cause = _handler_failures(stack)
    if handler_failures > max(1, MAX_FAIL_RATIO * int(total.get("requests", 0) or 0)):
        problems.append(f"{handler_failures} event handlers failed ({cause or 'see the logs'})")
        lines.append(f"{handler_failures} event handlers failed; first failed call: {cause}")
    if problems:
        first = next(iter(failing), None)
        if first:
            problems.append(f"{first}: {errors.get(first, '?')}")
        return _fail(_short("; ".join(problems)), "\n".join(lines))
    n = int(total.get("requests", 0) or 0)
    return Outcome(True, f"{n} req, {ratio:.2%} failed", "\n".join(lines))


# -- down: nothing of the stack keeps running ------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone
    except (OSError, IndexError):
        return False


def stack_processes(stack: Path, state: dict) -> list[int]:
    """Live processes of a stack: its state file's pids and any process whose environment
    names the stack (``ARCHSIM_STACK=<id>``) or whose command line names its directory."""
    pids = {int(i["pid"]) for i in state.get("instances", []) if i.get("pid")}
    tag = f"ARCHSIM_STACK={state.get('stack')}".encode() if state.get("stack") else None
    where = str(stack.resolve()).encode()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if (tag and tag in environ.split(b"\0")) or where in cmdline:
            pids.add(int(entry))
    return sorted(p for p in pids if _alive(p))


def step_down(path: Path, work: Path, state: dict) -> Outcome:
    stack = work / path.stem
    rc, out = _archsim("down", str(stack), timeout=TIMEOUTS["down"])
    time.sleep(0.5)
    left = stack_processes(stack, state)
    if left:
        names = []
        for pid in left:
            try:
                names.append(f"{pid}:{Path(f'/proc/{pid}/comm').read_text().strip()}")
                os.kill(pid, signal.SIGKILL)  # our own stack's leftovers, by pid
            except OSError:
                pass
        return _fail(f"{len(left)} processes left", ", ".join(names) + "\n" + out[-1000:])
    if rc != 0:
        return _fail(_short(f"exit {rc}: {_first_problem(out)}"), out[-2000:])
    return Outcome(True, "0 left")


# -- the loop ---------------------------------------------------------------------------------

_SIMPLE = {
    "validate": step_validate,
    "analyze": step_analyze,
    "render": step_render,
    "simulate": step_simulate,
    "generate": step_generate,
}


def _timed(fn, *args) -> Outcome:
    start = time.perf_counter()
    try:
        outcome = fn(*args)
    except Exception as exc:  # the harness must report, not stop, on a step's crash
        outcome = _fail(_short(f"harness: {type(exc).__name__}: {exc}"), repr(exc))
    outcome.seconds = time.perf_counter() - start
    return outcome


def run_file(path: Path, steps: tuple[str, ...], work: Path, progress=print) -> FileResult:
    """Run ``steps`` on one architecture; ``up`` needs a generated stack (``ruff`` findings
    alone do not stop it), ``requests`` and ``loadtest`` need ``up``; ``down`` always runs once
    ``up`` was tried."""
    result = FileResult(
        path.stem, str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    )
    res = result.steps

    def record(step: str, outcome: Outcome) -> None:
        res[step] = outcome
        mark = {True: "✓", False: "✗", None: "–"}[outcome.ok]
        progress(f"  {path.stem:24} {step:9} {mark} {outcome.reason} ({outcome.seconds:.1f}s)")

    for step in ("validate", "analyze", "render", "simulate", "generate"):
        if step in steps:
            record(step, _timed(_SIMPLE[step], path, work))
    wants_stack = [s for s in ("up", "requests", "loadtest", "down") if s in steps]
    if not wants_stack:
        return result
    stack = work / path.stem
    if "generate" not in steps and not (stack / "stack.json").exists():
        record("generate", _timed(step_generate, path, work))
    if not (stack / "stack.json").exists():  # a lint failure alone still gives a stack
        for step in wants_stack:
            record(step, Outcome(None, "no stack (generate failed)"))
        return result
    up = _timed(step_up, path, work)
    state = _state(stack)
    try:
        if "up" in steps:
            record("up", up)
        for step, fn in (("requests", step_requests), ("loadtest", step_loadtest)):
            if step not in steps:
                continue
            if not up.ok:
                record(step, Outcome(None, "stack not up"))
            else:
                record(step, _timed(fn, path, work))
    finally:
        down = _timed(step_down, path, work, state or _state(stack))
        if "down" in steps:
            record("down", down)
    return result


def table(results: list[FileResult], steps: tuple[str, ...]) -> str:
    """The architecture × step table, then the full reason of every ✗."""
    mark = {True: "✓", False: "✗", None: "–"}
    width = max([len(r.name) for r in results] + [12])
    head = f"{'architecture':{width}} | " + " | ".join(f"{s:8}" for s in steps)
    rows = [head, "-" * len(head)]
    for r in results:
        cells = [f"{mark[r.steps[s].ok] if s in r.steps else ' ':8}" for s in steps]
        rows.append(f"{r.name:{width}} | " + " | ".join(cells))
    passed = sum(1 for r in results for s in steps if s in r.steps and r.steps[s].ok)
    ran = sum(1 for r in results for s in steps if s in r.steps and r.steps[s].ok is not None)
    rows.append(f"\n{passed}/{ran} steps passed\n")
    for r in results:
        rows.append(f"{r.name} ({r.path})")
        rows.extend(
            f"  {mark[o.ok]} {s}: {o.reason}" for s, o in r.steps.items() if o.ok is not None
        )
    rows.append("\nDetails of each ✗ (the last lines of its output)")
    for r in results:
        shown: dict[str, set[str]] = {}
        for s, o in r.steps.items():
            if o.ok is not False:
                continue
            rows.append(f"\n[{r.name} · {s}] {o.reason}")
            tail = "\n".join(f"    {ln[:300]}" for ln in o.detail.strip().splitlines()[-12:])
            mine = set(tail.splitlines())
            first = next((k for k, v in shown.items() if len(mine & v) * 2 > len(mine)), None)
            if first:
                rows.append(f"    (same output as {first})")
                continue
            shown[s] = mine
            rows.append(tail)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the corpus through the loop and print the table (exit 1 when a step failed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("files", nargs="*", type=Path, help="DOT files to run instead of the corpus")
    ap.add_argument("--only", help="comma-separated file stems, e.g. sock-shop,topology")
    ap.add_argument("--steps", default=",".join(STEPS), help="comma-separated steps")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--workdir", type=Path, help="where stacks and drawings go (default: temp)")
    args = ap.parse_args(argv)
    steps = tuple(s for s in STEPS if s in args.steps.split(","))
    unknown = set(args.steps.split(",")) - set(STEPS)
    if unknown:
        ap.error(f"unknown steps {sorted(unknown)}; choose from {','.join(STEPS)}")
    files = [f.resolve() for f in args.files] or corpus_files()
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        ap.error(f"no such file: {', '.join(missing)}")
    if args.only:
        wanted = set(args.only.split(","))
        files = [f for f in files if f.stem in wanted]
        if not files:
            ap.error(f"no corpus file named {sorted(wanted)}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="archsim-corpus-"))
    work.mkdir(parents=True, exist_ok=True)
    log = (
        (lambda *a, **k: print(*a, file=sys.stderr, flush=True))
        if args.json
        else (lambda *a, **k: print(*a, flush=True))
    )
    log(f"corpus: {len(files)} files, steps {','.join(steps)}, work dir {work}")
    results = []
    for path in files:
        log(f"{path.stem}:")
        results.append(run_file(path, steps, work, progress=log))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))
    else:
        print()
        print(table(results, steps))
    failed = any(o.ok is False for r in results for o in r.steps.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
