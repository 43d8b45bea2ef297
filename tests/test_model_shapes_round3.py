"""Round 3 of the drawing shapes: scheduled jobs (rule entry.schedule), route labels on calls,
dead-letter links labelled by what fails, a cylinder nothing writes, a cache beside a database.

Each test is a small DOT snippet drawn as its author would; docs/behaviour.md states the rules.
"""

from __future__ import annotations

import pytest

from archsim.model import Architecture, Kind, read_architecture


def _arch(text: str) -> Architecture:
    return read_architecture(text, "shape.dot").architecture


def _share(arch: Architecture, component: str) -> float:
    return sum(e.weight for e in arch.behaviour.entries if e.hops[0] == component)


# -- rule entry.schedule --------------------------------------------------------------------


def test_a_nightly_batch_job_nothing_calls_is_a_side_door_over_its_writes():
    arch = _arch(
        'digraph g { web -> api [label="calls"]; api -> db [label="stores in"]; '
        'report [label="Report generator\\n(nightly)"]; '
        'report -> db [label="reads"]; report -> reports [label="writes"]; '
        "reports [shape=cylinder]; }"
    )
    entries = [e for e in arch.behaviour.entries if e.hops[0] == "report"]
    assert entries, "the job never runs"
    assert {e.method for e in entries} == {"POST"}  # its run: the write, not a read
    assert _share(arch, "report") == pytest.approx(0.05)
    assert "scheduled job (named 'nightly')" in entries[0].reason
    # the run writes its results
    op = next(o for o in arch.behaviour.operations if o.ref == entries[0].target)
    assert "reports" in {s.target for s in op.steps}


def test_a_schedule_attribute_makes_a_job_whatever_its_name():
    arch = _arch(
        'digraph g { web -> api; api -> db [label="stores in"]; '
        'scorer [schedule="every 5m"]; scorer -> db [label="stores in"]; }'
    )
    reasons = {e.reason for e in arch.behaviour.entries if e.hops[0] == "scorer"}
    assert reasons and all('schedule="every 5m"' in r for r in reasons)
    assert _share(arch, "scorer") == pytest.approx(0.05)


def test_a_schedule_word_on_a_called_service_is_no_job():
    # "Daily deals" is a service users call, not a cron
    arch = _arch(
        'digraph g { web -> deals; deals [label="Daily deals"]; deals -> db [label="stores in"]; }'
    )
    assert {e.hops[0] for e in arch.behaviour.entries} == {"deals"}
    assert _share(arch, "deals") == pytest.approx(1.0)
    assert not any("scheduled" in e.reason for e in arch.behaviour.entries)


def test_a_cron_job_is_no_front_door_beside_services_users_reach():
    # no client: the fallback finds api and the cron job; the job takes only its side share
    arch = _arch(
        'digraph g { api -> db [label="stores in"]; '
        'cleanup [label="CronJob: cleanup"]; cleanup -> db [label="stores in"]; }'
    )
    assert _share(arch, "api") == pytest.approx(0.95)
    assert _share(arch, "cleanup") == pytest.approx(0.05)
    assert arch.component("cleanup").kind is Kind.SERVICE
