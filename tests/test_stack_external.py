"""The seed's end-to-end path against real servers by URL: PostgreSQL (``DATABASE_URL``) and
Redis (``REDIS_URL``) instead of SQLite and the embedded Valkey. Skipped, with the reason, when
this machine has no PostgreSQL on 127.0.0.1:5432 or Redis on 127.0.0.1:6379 (override with
ARCHSIM_TEST_PG / ARCHSIM_TEST_REDIS)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load
from archsim.runtime import launcher

SEED = Path(__file__).resolve().parent.parent / "topology.dot"
PG = os.environ.get("ARCHSIM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("ARCHSIM_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _pg(statement: str) -> str | None:
    """Run one statement on the admin database; the error text when it is unreachable."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG, timeout=3)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    try:
        asyncio.run(run())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _count(url: str, table: str) -> int:
    import asyncpg

    async def run() -> int:
        conn = await asyncpg.connect(url, timeout=3)
        try:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        finally:
            await conn.close()

    return asyncio.run(run())


def _redis_down() -> str | None:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return str(exc)
    return None


def test_seed_end_to_end_on_postgresql_and_redis(tmp_path: Path) -> None:
    name = f"archsim_e2e_{uuid.uuid4().hex[:8]}"
    problem = _pg(f"CREATE DATABASE {name}")
    if problem:
        pytest.skip(f"PostgreSQL not reachable at {PG}: {problem}")
    if _redis_down():
        _pg(f"DROP DATABASE {name}")
        pytest.skip(f"Redis not reachable at {REDIS}: {_redis_down()}")
    db_url = PG.rsplit("/", 1)[0] + f"/{name}"
    apply_writes(plan_writes(tmp_path, render(load(SEED).architecture)))
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS}
    try:
        state = launcher.up(tmp_path, env=env, timeout_s=120)
        roles = {i["role"] for i in state["instances"]}
        assert "redis" not in roles  # no embedded server when REDIS_URL is given
        assert not any(
            k.startswith("ARCHSIM_URL_") and "sqlite" in v for k, v in state["resources"].items()
        )
        http = httpx.Client(base_url=state["front_door"], timeout=15)
        user = http.post(
            "/users",
            json={"name": "Bo", "email": f"bo-{name}@example.com", "password": "correct horse"},
        )
        assert user.status_code == 201, user.text
        token = http.post(
            "/users/login", json={"email": f"bo-{name}@example.com", "password": "correct horse"}
        ).json()["access_token"]
        auth = {"authorization": f"Bearer {token}"}
        product = http.post("/api/products", json={"name": "Desk"}, headers=auth).json()
        hits = redis.Redis.from_url(REDIS).info("stats")["keyspace_hits"]
        http.get("/api/products", headers=auth)
        http.get("/api/products", headers=auth)
        assert redis.Redis.from_url(REDIS).info("stats")["keyspace_hits"] > hits
        order = http.post(
            "/api/orders",
            json={"user_id": user.json()["id"], "product_id": product["id"]},
            headers=auth,
        )
        assert order.status_code == 201, order.text
        assert _count(db_url, "orders") == 1 and _count(db_url, "users") == 1
        sink = next(i["url"] for i in state["instances"] if i["component"] == "email_service")
        deadline = time.monotonic() + 20
        subject = f"OrderPlaced {order.json()['id']}"
        while time.monotonic() < deadline:
            if any(
                m["subject"] == subject for m in httpx.get(sink + "/messages").json()["messages"]
            ):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("no email for the order")
    finally:
        launcher.down(tmp_path)
        _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
