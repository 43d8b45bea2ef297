"""Scheduled jobs: work a clock starts, not a caller (rule entry.schedule, docs/behaviour.md).

A nightly batch scorer, a report generator or a Kubernetes CronJob reads a database and
writes results, and nothing sends it requests: without a rule it has no entry and its work
never runs. A service is a **scheduled job** when the file says so with ``schedule="…"``
(any text: ``every 5m``, ``nightly``, ``0 2 * * *``), or when nothing sends it requests and
its id or label has a schedule word (``cron``, ``scheduled``, ``nightly``, ``hourly``, …),
or when nothing sends it requests and a call of its says it polls for work (a Temporal or
SQS worker: ``worker -> frontend [label="PollWorkflowTaskQueue"]``): its own loop starts it.
``archsim.model.entries`` gives each one a side door of its own.
"""

from __future__ import annotations

import re

from archsim.model.architecture import Architecture, Component
from archsim.model.kinds import Kind, Relation, name_has

__all__ = ["SCHEDULE_WORDS", "schedule_of", "scheduled_jobs"]

#: Words that say a clock starts the component's work ("Batch scorer (nightly, Airflow)").
SCHEDULE_WORDS = (
    "cron", "cronjob", "cron job", "crontab", "scheduled", "nightly", "hourly", "daily",
    "weekly", "monthly", "periodic",
)  # fmt: skip
# "poll", "long-poll", "PollWorkflowTaskQueue", "LongPoll": not "repoll"'s or "pollution"'s
_POLL = re.compile(r"(?<![a-z])poll(?!ut)|Poll")
_REQUESTS = (Relation.CALLS, Relation.USES, Relation.ROUTES_TO, Relation.DISTRIBUTES_TO)


def schedule_of(arch: Architecture, comp: Component) -> str | None:
    """Why ``comp`` is a scheduled job (its ``schedule=`` or its schedule word), or None."""
    if comp.kind is not Kind.SERVICE:
        return None
    written = comp.attrs.get("schedule", "").strip()
    if written:
        return f'schedule="{written}"'
    if arch.has_links_to(comp.id, *_REQUESTS):
        return None  # a caller starts its work: a service that happens to say "daily"
    word = name_has(comp.id, comp.title, SCHEDULE_WORDS)
    if word:
        return f"named '{word}'"
    polls = next(
        (lk for lk in arch.links_from(comp.id, *_REQUESTS) if _POLL.search(lk.label)), None
    )
    return f"a poll loop: '{polls.label}' to {polls.target}" if polls else None


def scheduled_jobs(arch: Architecture) -> dict[str, str]:
    """Each scheduled job's id and why it is one, in file order."""
    found = {comp.id: schedule_of(arch, comp) for comp in arch.of_kind(Kind.SERVICE)}
    return {cid: why for cid, why in found.items() if why}
