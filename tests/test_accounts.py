"""Rule auth.accounts: where tokens are checked and nothing logs in, the auth service keeps the
accounts (sign-up and login), the gateway routes them, and a generated stack really lets a
caller sign up, log in and pass the token check (archsim.model.accounts)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from stack_run import run_loadtest, running_stack

from archsim.capacity import parse_slos, plan
from archsim.codegen import render
from archsim.errors import ScenarioError
from archsim.model import Architecture, Kind, OpKind, StepAction, load
from archsim.model import attributes as A
from archsim.model.accounts import ACCOUNTS_SHARE, account_store
from archsim.model.loader import read_architecture as loads
from archsim.model.profile import apply_overrides, profile_overrides
from archsim.sim import SimConfig
from archsim.sim.analytic import solve
from archsim.sim.workload import Workload

ROOT = Path(__file__).resolve().parent.parent
GUARDED = ROOT / "tests" / "stack_models" / "guarded.dot"


def _ops(arch: Architecture, component: str) -> dict[str, object]:
    return {op.name: op for op in arch.behaviour.operations_of(component)}


def _entries(arch: Architecture) -> dict[str, float]:
    return {entry.id: entry.weight for entry in arch.behaviour.entries}


def test_a_gateway_that_checks_tokens_routes_the_auth_services_accounts() -> None:
    arch = load(GUARDED).architecture
    auth = _ops(arch, "auth")
    assert auth["create_account"].kind is OpKind.WRITE and auth["login"].kind is OpKind.LOGIN
    assert {auth["create_account"].rule, auth["login"].rule} == {"auth.accounts"}
    routes = {op.path: op for op in arch.behaviour.operations_of("gateway")}
    for path in ("/api/accounts", "/api/accounts/login"):
        steps = [(s.action, s.operation) for s in routes[path].steps]
        assert (StepAction.CALL, "validate_token") not in steps, f"{path} must be public"
    guarded = [(s.action, s.operation) for s in routes["/api/orders"].steps]
    assert (StepAction.CALL, "validate_token") in guarded
    share = _entries(arch)
    accounts = share["POST /api/accounts"] + share["POST /api/accounts/login"]
    assert accounts == pytest.approx(ACCOUNTS_SHARE)
    assert sum(share.values()) == pytest.approx(1.0)


def test_weight_on_the_validates_with_link_sets_the_accounts_share() -> None:
    text = GUARDED.read_text().replace(
        '[label="validates with"]', '[label="validates with", weight=0.2]'
    )
    share = _entries(loads(text, "guarded.dot").architecture)
    assert share["POST /api/accounts"] + share["POST /api/accounts/login"] == pytest.approx(0.2)


def test_an_auth_service_no_door_reaches_is_a_door_of_its_own() -> None:
    text = textwrap.dedent("""
        digraph direct {
          browser [label="Browser"];
          auth [label="Auth Service"];
          orders;
          orders_db [shape=cylinder];
          browser -> orders [label="calls"];
          orders -> auth [label="calls"];
          orders -> orders_db [label="stores in"];
        }
    """)
    arch = loads(text, "direct.dot").architecture
    doors = {entry.hops[0] for entry in arch.behaviour.entries}
    assert doors == {"orders", "auth"}
    login = next(e for e in arch.behaviour.entries if e.id == "POST /accounts/login")
    assert "sign-up and login" in login.reason
    assert sum(_entries(arch).values()) == pytest.approx(1.0)


def test_a_service_login_or_no_token_check_means_no_accounts(seed: Architecture) -> None:
    assert "create_account" not in _ops(seed, "auth_service")  # user_service logs in
    text = GUARDED.read_text().replace('gateway -> auth [label="validates with"];', "")
    arch = loads(text, "unguarded.dot").architecture
    assert "login" not in _ops(arch, "auth")  # nothing checks its tokens


def test_an_auth_service_storing_nothing_gets_an_implied_private_store() -> None:
    """The model, not codegen, decides the store (rule auth.accounts): an implied database
    with a drawn database's defaults, written by sign-up, read by login, costed by the
    simulator and opened by the generated auth service."""
    arch = load(GUARDED).architecture
    assert [c.id for c in arch.implied] == ["auth_accounts"]
    store = arch.component("auth_accounts")
    assert store.kind is Kind.DATABASE and store.connections == A.DEFAULT_CONNECTIONS
    assert store.service_time == A.KIND_DEFAULTS[Kind.DATABASE].service_time
    auth = _ops(arch, "auth")
    assert [(s.action, s.target, s.mode) for s in auth["create_account"].steps[1:]] == [
        (StepAction.QUERY, "auth_accounts", "write")
    ]
    assert [(s.action, s.target, s.mode) for s in auth["login"].steps[1:]] == [
        (StepAction.QUERY, "auth_accounts", "read")
    ]
    assert "auth_accounts" not in {c.id for c in arch.components}  # the file's stay the file's
    solved = solve(arch, Workload(rps=50))
    assert solved.components["auth_accounts"].throughput > 0
    spec = render(arch)["services/auth/app.py"]
    assert "'databases': {'auth_accounts': {'pool': 5}}" in spec


def test_the_private_store_takes_a_free_id_and_survives_an_override() -> None:
    drawn = "orders_db [shape=cylinder]; auth_accounts [shape=cylinder];"
    text = GUARDED.read_text().replace("orders_db [shape=cylinder];", drawn)
    arch = loads(text, "clash.dot").architecture
    assert [c.id for c in arch.implied] == ["auth_accounts_2"]
    again = apply_overrides(arch, ["auth.workers=2"])
    assert [c.id for c in again.implied] == ["auth_accounts_2"]
    assert "auth_accounts_2" not in {c.id for c in again.components}


def test_an_override_sizes_the_implied_store_like_a_drawn_database() -> None:
    """``--set``/profile overrides address the implied store by its id (issue 11): the model,
    the simulator's station and the stack's pool all take the new values, and a second round
    of overrides keeps them."""
    arch = load(GUARDED).architecture
    changed = apply_overrides(arch, ["auth_accounts.connections=4", "auth_accounts.replicas=2"])
    store = changed.component("auth_accounts")
    assert (store.connections, store.replicas) == (4, 2)
    assert set(store.explicit) == {"connections", "replicas"}
    assert "'databases': {'auth_accounts': {'pool': 4}}" in render(changed)["services/auth/app.py"]
    slower = apply_overrides(changed, ["auth_accounts.service_time=exp(20ms)"])
    assert slower.component("auth_accounts").connections == 4  # the first round is kept
    load_of = solve(slower, Workload(rps=50)).components["auth_accounts"].utilisation
    assert load_of > solve(changed, Workload(rps=50)).components["auth_accounts"].utilisation


def test_plan_sizes_the_implied_store_like_a_drawn_database() -> None:
    """``archsim plan`` grows an overloaded implied store (before, it was neither scaled nor
    costed), and its profile applies to the model."""
    arch = apply_overrides(load(GUARDED).architecture, ["auth_accounts.service_time=exp(500ms)"])
    cfg = SimConfig(duration=10.0, warmup=2.0, replications=2, seed=1)
    result = plan(arch, 200, parse_slos("p50<1s"), config=cfg)
    assert result.feasible and result.changes() == {"auth_accounts": {"replicas": 2}}
    assert result.cost_after - result.cost_before == A.KIND_DEFAULTS[Kind.DATABASE].cost
    profile = profile_overrides(yaml.safe_load(result.profile_yaml()))
    assert apply_overrides(arch, profile).component("auth_accounts").replicas == 2


def test_an_override_the_implied_store_cannot_take_says_what_to_do() -> None:
    arch = load(GUARDED).architecture
    with pytest.raises(ScenarioError, match=r"rule auth\.accounts") as err:
        apply_overrides(arch, ["auth_accounts.kind=cache"])
    assert "stores in" in (err.value.diagnostics[0].hint or "")
    with pytest.raises(ScenarioError, match="unknown component") as err:
        apply_overrides(arch, ["auth_acounts.connections=4"])
    assert "auth_accounts" in (err.value.diagnostics[0].hint or "")
    with pytest.raises(ScenarioError, match="connections"):
        apply_overrides(arch, ["auth_accounts.connections=0"])


def test_an_auth_service_that_stores_in_a_database_keeps_its_accounts_there() -> None:
    text = GUARDED.read_text().replace("}", 'auth -> auth_db [label="stores in"];\n}')
    arch = loads(text, "stored.dot").architecture
    assert arch.implied == ()
    assert account_store(arch, "auth") == "auth_db"


def test_train_ticket_signs_up_through_its_gateway() -> None:
    arch = load(ROOT / "examples" / "architectures" / "train-ticket.dot").architecture
    ids = set(_entries(arch))
    assert {"POST /api/accounts", "POST /api/accounts/login"} <= ids


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    directory = tmp_path_factory.mktemp("guarded")
    with running_stack(GUARDED, directory) as front:
        yield directory, front


def test_sign_up_log_in_and_pass_the_token_check(stack: tuple[Path, str]) -> None:
    _, front = stack
    http = httpx.Client(base_url=front, timeout=15)
    assert http.get("/api/orders").status_code == 401  # no token yet
    me = {"email": "ada@example.org", "password": "s3cret", "name": "Ada"}
    created = http.post("/api/accounts", json=me)
    assert created.status_code == 201, created.text
    assert "password" not in created.text and created.json()["email"] == me["email"]
    assert http.post("/api/accounts", json=me).status_code == 409
    wrong = http.post("/api/accounts/login", json={**me, "password": "nope"})
    assert wrong.status_code == 401
    login = http.post("/api/accounts/login", json={"email": me["email"], "password": "s3cret"})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    order = http.post("/api/orders", json={"name": "first"}, headers=headers)
    assert order.status_code == 201, order.text
    assert http.get(f"/api/orders/{order.json()['id']}", headers=headers).status_code == 200


def test_generated_locustfile_signs_up_and_has_no_failures(
    stack: tuple[Path, str], tmp_path: Path
) -> None:
    directory, _ = stack
    args = ["--users", "3", "--duration", "5s", "--warmup", "1s", "--think", "const(0.05s)"]
    result = run_loadtest(directory, tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["total"]["failures"] == 0
    assert set(summary["endpoints"]) == set(summary["entries_model"])
