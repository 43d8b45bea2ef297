"""Every architecture of the corpus (examples/architectures/, real public systems) and the
seed through archsim, as a user runs it: the model steps for all of them, the whole loop
(generate → up → one request per entry → Locust 10 users × 20 s → down) for three.

The steps are benchmarks/bench_corpus.py's, which runs the whole loop on every file and
prints the table; this test holds the suite to it. A (file, step) that does not pass yet is in
KNOWN with the reason, as an xfail: when it starts passing, the entry must go.
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

# (file, step) → why it fails today. Not strict while issue 15's fixes land one by one; at the
# end every entry that passes must go (run with --runxfail to see which) and strict comes back.
KNOWN: dict[tuple[str, str], str] = {
    ("bookinfo", "validate"): "a client calls the ingress gateway: no client kind yet",
    ("bookinfo", "analyze"): "a client calls the ingress gateway: no client kind yet",
    ("bookinfo", "render"): "a client calls the ingress gateway: no client kind yet",
    ("bookinfo", "simulate"): "a client calls the ingress gateway: no client kind yet",
    ("bookinfo", "generate"): "a client calls the ingress gateway: no client kind yet",
    ("eshoponcontainers", "validate"): "frontends call an API gateway: no client/frontend rule yet",
    ("eshoponcontainers", "analyze"): "frontends call an API gateway: no client/frontend rule yet",
    ("eshoponcontainers", "render"): "frontends call an API gateway: no client/frontend rule yet",
    ("eshoponcontainers", "simulate"): "frontends call an API gateway: no client/frontend rule yet",
    ("eshoponcontainers", "generate"): "frontends call an API gateway: no client/frontend rule yet",
    (
        "media-microservices",
        "validate",
    ): "a client calls nginx (a load balancer): no client kind yet",
    (
        "media-microservices",
        "analyze",
    ): "a client calls nginx (a load balancer): no client kind yet",
    ("media-microservices", "render"): "a client calls nginx (a load balancer): no client kind yet",
    (
        "media-microservices",
        "simulate",
    ): "a client calls nginx (a load balancer): no client kind yet",
    (
        "media-microservices",
        "generate",
    ): "a client calls nginx (a load balancer): no client kind yet",
    ("minishop-saga", "validate"): "dotted event names (cart.checkout) are refused",
    ("minishop-saga", "analyze"): "dotted event names (cart.checkout) are refused",
    ("minishop-saga", "render"): "dotted event names (cart.checkout) are refused",
    ("minishop-saga", "simulate"): "dotted event names (cart.checkout) are refused",
    ("minishop-saga", "generate"): "dotted event names (cart.checkout) are refused",
    ("petclinic-microservices", "validate"): "a browser calls the API gateway: no client kind yet",
    ("petclinic-microservices", "analyze"): "a browser calls the API gateway: no client kind yet",
    ("petclinic-microservices", "render"): "a browser calls the API gateway: no client kind yet",
    ("petclinic-microservices", "simulate"): "a browser calls the API gateway: no client kind yet",
    ("petclinic-microservices", "generate"): "a browser calls the API gateway: no client kind yet",
    ("sock-shop", "validate"): "a user simulator calls the edge router: no client kind yet",
    ("sock-shop", "analyze"): "a user simulator calls the edge router: no client kind yet",
    ("sock-shop", "render"): "a user simulator calls the edge router: no client kind yet",
    ("sock-shop", "simulate"): "a user simulator calls the edge router: no client kind yet",
    ("sock-shop", "generate"): "a user simulator calls the edge router: no client kind yet",
    ("teastore", "validate"): "a web UI calls Persistence, read as a database from its name",
    ("teastore", "analyze"): "a web UI calls Persistence, read as a database from its name",
    ("teastore", "render"): "a web UI calls Persistence, read as a database from its name",
    ("teastore", "simulate"): "a web UI calls Persistence, read as a database from its name",
    ("teastore", "generate"): "a web UI calls Persistence, read as a database from its name",
    ("train-ticket", "validate"): "nodes declared only inside styled subgraphs read as undeclared",
    ("train-ticket", "analyze"): "nodes declared only inside styled subgraphs read as undeclared",
    ("train-ticket", "render"): "nodes declared only inside styled subgraphs read as undeclared",
    ("train-ticket", "simulate"): "nodes declared only inside styled subgraphs read as undeclared",
    ("train-ticket", "generate"): "nodes declared only inside styled subgraphs read as undeclared",
    ("kafka-orders", "validate"): "an entry on the Browser traffic source",
    ("kafka-orders", "generate"): "a locustfile line over 120 columns",
    ("online-boutique", "validate"): "an entry on the loadgenerator traffic source",
}


def _marks(name: str, step: str) -> list[pytest.MarkDecorator]:
    why = KNOWN.get((name, step))
    return [pytest.mark.xfail(reason=why, strict=False)] if why else []


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
            marks=[pytest.mark.xfail(reason="a model step is KNOWN to fail", strict=False)]
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
