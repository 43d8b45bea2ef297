"""The launcher brings up any combination of components: each architecture below has one kind
of infrastructure (or an unusual mix) and nothing else; it is generated, really started with
``launcher.up`` (which prepares every directory and file first), sent one request per entry
and stopped, leaving no process behind."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model.loader import read_architecture
from archsim.runtime import launcher
from archsim.runtime.prepare import prepare, sqlite_file

COMBINATIONS = {
    "database only": 'api -> api_db [label="stores in"];',
    "smtp only": 'notifier -> mail [label="sends via"];',
    "broker only": 'orders -> bus [label="publishes to"]; shipping -> bus [label="subscribes to"];',
    "cache without database": 'api -> api_cache [label="caches in"];',
    "provider only": 'api -> stripe [label="integrates with"];',
    "registry and config": (
        'api -> registry [label="registers with"]; api -> config [label="reads from"];'
    ),
    "two services, one shared store": (
        'web -> web_db [label="stores in"]; carts -> web_db [label="stores in"]; '
        'carts -> carts_cache [label="caches in"];'
    ),
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}


def _stack(tmp_path: Path, body: str) -> Path:
    arch = read_architecture("digraph g {" + body + "}", "combo.dot").architecture
    apply_writes(plan_writes(tmp_path, render(arch)))
    return tmp_path


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_combination_comes_up_answers_and_goes_down(tmp_path: Path, name: str) -> None:
    stack = _stack(tmp_path, COMBINATIONS[name])
    manifest = launcher.load_manifest(stack)
    pids: list[int] = []
    try:
        state = launcher.up(stack, env=_env(), timeout_s=90)
        pids = [int(i["pid"]) for i in state["instances"]]
        assert all(i["state"] == "ready" for i in state["instances"])
        # the writes: each must answer 2xx through its own door (the entry's first hop)
        doors = {i["component"]: i["url"] for i in state["instances"]}
        body = {"name": "one", "reference": "r-1", "amount": 1.0}
        for entry in manifest["entries"]:
            if entry["method"] != "POST" or "{" in entry["path"]:
                continue
            door = doors[entry["hops"][0]]
            reply = httpx.post(door + entry["path"], json=body, timeout=15)
            assert reply.status_code in (200, 201), (entry["id"], reply.text)
    finally:
        launcher.down(stack)
    assert pids and not any(launcher.instance_alive(p) for p in pids)


def test_prepare_creates_every_directory_and_file(tmp_path: Path) -> None:
    manifest = {"databases": ["orders_db"]}
    instances = [
        {"instance": "cache-1", "role": "redis", "log": str(tmp_path / ".archsim/logs/c.log")},
        {"instance": "mail-1", "role": "smtp_sink", "log": str(tmp_path / "elsewhere/m.log")},
    ]
    env = {
        "ARCHSIM_URL_USERS_DB": f"sqlite:///{tmp_path}/deep/er/users.sqlite3",
        "DATABASE_URL": "sqlite:///relative/dir/all.sqlite3",
        "ARCHSIM_URL_CACHE": "redis://127.0.0.1:1/0",
    }
    created = prepare(tmp_path, manifest, instances, env)
    for path in (
        ".archsim/logs",
        ".archsim/data/cache-1",
        "elsewhere",
        "deep/er",
        "relative/dir",
    ):
        assert (tmp_path / path).is_dir(), path
    assert (tmp_path / ".archsim/data/mail-1.mail.jsonl").is_file()
    assert tmp_path / "deep/er" in created
    assert prepare(tmp_path, manifest, instances, env) == []  # idempotent


def test_sqlite_file_reads_every_url_form(tmp_path: Path) -> None:
    assert sqlite_file("sqlite:////abs/x.db", tmp_path) == Path("/abs/x.db")
    assert sqlite_file("sqlite+aiosqlite:///rel/x.db?mode=rwc", tmp_path) == tmp_path / "rel/x.db"
    assert sqlite_file("sqlite:///:memory:", tmp_path) is None
    assert sqlite_file("postgresql://h/db", tmp_path) is None


def test_database_url_in_a_missing_directory_comes_up(tmp_path: Path) -> None:
    stack = _stack(tmp_path / "stack", COMBINATIONS["database only"])
    env = _env() | {"DATABASE_URL": f"sqlite:///{tmp_path}/not/yet/there.sqlite3"}
    try:
        state = launcher.up(stack, env=env, timeout_s=90)
        reply = httpx.post(state["front_door"] + "/apis", json={"name": "a"}, timeout=15)
        assert reply.status_code == 201, reply.text
    finally:
        launcher.down(stack)
    assert (tmp_path / "not/yet/there.sqlite3").is_file()
