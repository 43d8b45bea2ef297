"""Auth that a security reviewer would sign (issue 10, item 4), on the real seed stack:
minting a token takes a client credential (401 without, 403 for a client that may not mint),
users get tokens through the login path, passwords are hashed at the OWASP minimum unless a
load test lowers it (with a warning in the service's log), and no secret reaches state.json
or a log. The compose and Kubernetes files take their secrets from the environment / Secrets."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import jwt
import pytest
from stack_run import embedded_env, started_stack

from archsim.codegen import render
from archsim.model import load
from archsim.runtime import launcher
from archsim.runtime.auth import (
    OWASP_PBKDF2_ROUNDS,
    ROUNDS_ENV,
    client_header,
    client_secret,
    hash_password,
    hash_rounds,
    rounds_warning,
    verify_password,
)

SEED = Path(__file__).resolve().parent.parent / "topology.dot"
PASSWORD = "correct horse battery"
JWT_SECRET = "s" * 8 + "-the-signing-secret-of-this-test-" + "x" * 8


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("shop")
    # a secret given by the environment must not be copied into state.json either
    env = embedded_env(ARCHSIM_JWT_SECRET=JWT_SECRET, **{ROUNDS_ENV: "1000"})
    with started_stack(SEED, root, env) as state:
        yield root, state, env


def _auth_url(state):
    return next(i["url"] for i in state["instances"] if i["component"] == "auth_service")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer abc",
        "Basic " + base64.b64encode(b"user_service:guessed").decode(),
        "Basic !!!not-base64",
    ],
    ids=["none", "bearer", "wrong-secret", "malformed"],
)
def test_minting_without_a_credential_is_401(stack, authorization):
    _, state, _ = stack
    headers = {"authorization": authorization} if authorization else {}
    reply = httpx.post(
        _auth_url(state) + "/tokens", json={"subject": "mallory"}, headers=headers, timeout=10
    )
    assert reply.status_code == 401, reply.text
    assert reply.headers["www-authenticate"].startswith("Basic")
    assert "access_token" not in reply.text


def test_a_client_that_may_not_mint_is_403(stack):
    _, state, _ = stack
    # product_service's credential is genuine, but nothing in the model lets it mint tokens
    forged = client_header("product_service", client_secret(JWT_SECRET, "product_service"))
    reply = httpx.post(
        _auth_url(state) + "/tokens",
        json={"subject": "mallory"},
        headers={"authorization": forged},
        timeout=10,
    )
    assert reply.status_code == 403, reply.text


def test_the_owner_client_mints_and_the_gateway_accepts_it(stack):
    root, state, env = stack
    header = launcher.client_authorization(root, "client", env)
    minted = httpx.post(
        _auth_url(state) + "/tokens",
        json={"subject": "ops"},
        headers={"authorization": header},
        timeout=10,
    )
    assert minted.status_code == 201, minted.text
    bearer = {"authorization": f"Bearer {minted.json()['access_token']}"}
    products = httpx.get(state["front_door"] + "/api/products", headers=bearer, timeout=10)
    assert products.status_code == 200, products.text


@pytest.mark.parametrize("missing", ["exp", "iat", "sub"])
def test_a_token_without_exp_iat_or_sub_is_401_at_the_front_door(stack, missing):
    _, state, _ = stack
    now = int(time.time())
    claims = {"sub": "mallory", "iss": "auth_service", "iat": now, "exp": now + 600}
    del claims[missing]
    token = jwt.encode(claims, JWT_SECRET, algorithm="HS256")  # a genuine signature
    bearer = {"authorization": f"Bearer {token}"}
    reply = httpx.get(state["front_door"] + "/api/products", headers=bearer, timeout=10)
    assert reply.status_code == 401, reply.text


def test_users_get_tokens_by_logging_in(stack):
    _, state, _ = stack
    http = httpx.Client(base_url=state["front_door"], timeout=15)
    user = {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}
    assert http.post("/users", json=user).status_code == 201
    wrong = http.post("/users/login", json={"email": user["email"], "password": "guess"})
    assert wrong.status_code == 401
    login = http.post("/users/login", json={"email": user["email"], "password": PASSWORD})
    assert login.status_code == 200, login.text
    bearer = {"authorization": f"Bearer {login.json()['access_token']}"}
    assert http.get("/api/products", headers=bearer).status_code == 200


def test_no_secret_in_state_or_logs(stack):
    root, _, _ = stack
    # after the login test: the user's password went through the stack
    secrets = [
        JWT_SECRET,
        client_secret(JWT_SECRET, "user_service"),
        client_secret(JWT_SECRET, "client"),
        PASSWORD,
    ]
    files = [root / ".archsim" / "state.json", *sorted((root / ".archsim" / "logs").glob("*"))]
    assert len(files) > 10
    for path in files:
        text = path.read_text(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a secret in {path.name}"
    recorded = json.loads(files[0].read_text())
    assert "ARCHSIM_JWT_SECRET" not in recorded["env"]
    assert recorded["env"][ROUNDS_ENV] == "1000"  # settings that are not secrets stay


def test_a_lowered_hash_is_logged_as_a_warning(stack):
    root, _, _ = stack
    log = (root / ".archsim" / "logs" / "user_service-1.log").read_text()
    warnings = [json.loads(line) for line in log.splitlines() if "PBKDF2" in line]
    assert warnings and warnings[0]["level"] == "warning"
    assert "600,000" in warnings[0]["msg"]


def test_password_hashing_defaults_to_the_owasp_minimum(monkeypatch):
    monkeypatch.delenv(ROUNDS_ENV, raising=False)
    assert hash_rounds() == OWASP_PBKDF2_ROUNDS == 600_000
    assert rounds_warning(hash_rounds()) is None
    monkeypatch.setenv(ROUNDS_ENV, "1000")
    stored = hash_password("pw")
    assert stored.split("$")[1] == "1000"
    assert "load tests" in (rounds_warning(hash_rounds()) or "")
    monkeypatch.delenv(ROUNDS_ENV)
    assert verify_password("pw", stored)  # a hash keeps its own rounds
    assert not verify_password("pw2", stored)


def test_compose_and_kubernetes_hold_no_secret():
    files = render(load(SEED).architecture)
    compose, k8s = files["compose.yaml"], files["k8s/stack.yaml"]
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in compose
    assert "archsim:archsim@" not in compose and "archsim:archsim@" not in k8s
    assert "ARCHSIM_JWT_SECRET: ${ARCHSIM_JWT_SECRET:?" in compose
    assert "secretKeyRef: {name: archsim-db, key: url}" in k8s
    assert "secretKeyRef: {name: archsim-jwt, key: secret}" in k8s
