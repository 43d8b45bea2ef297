"""Round 6 of the drawing shapes: a Redis that holds job queues (``enqueues job``, ``pulls jobs
from``), a connection pooler before the database, a bucket's ``ObjectCreated`` event into a
function, a broker record whose ports are its topics, a Redis written with a sorted set's
commands, an nginx that serves files; and architectures users bring (tests/model_shapes/:
DeathStarBench's social network, GitLab, an S3 + Lambda image pipeline, a music platform
drawn with HTML tables and record ports).

Each test is a DOT snippet drawn as its author would, or one of those files; docs/behaviour.md
states the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from model_queries import arch_of as _arch
from model_queries import consumers as _consumers
from model_queries import op as _op
from model_queries import relation as _relation

from archsim.model import Kind, Relation, load
from archsim.model.notifications import notified_event
from archsim.model.relation_words import normalise_relation

SHAPES = Path(__file__).parent / "model_shapes"


# -- a job queue on Redis is a broker, not a cache ---------------------------------------------


@pytest.mark.parametrize(
    ("label", "relation"),
    [
        ("enqueues job", Relation.PUBLISHES_TO),
        ("enqueue a job", Relation.PUBLISHES_TO),
        ("pushes jobs to", Relation.PUBLISHES_TO),
        ("perform_async", Relation.PUBLISHES_TO),
        ("pulls jobs from", Relation.SUBSCRIBES_TO),
        ("fetch jobs", Relation.SUBSCRIBES_TO),
        ("pops tasks off", Relation.SUBSCRIBES_TO),
    ],
)
def test_a_label_that_puts_or_takes_jobs_names_a_queue_relation(
    label: str, relation: Relation
) -> None:
    assert normalise_relation(label) is relation


@pytest.mark.parametrize("label", ["process jobs", "task state", "polls for jobs", "send"])
def test_other_words_about_jobs_name_no_relation(label: str) -> None:
    assert normalise_relation(label) is None


def test_a_redis_holding_sidekiq_jobs_is_the_queue_sidekiq_consumes() -> None:
    result = load(SHAPES / "gitlab-rails.dot")
    arch = result.architecture
    # before: "Redis" was a cache that Puma and Sidekiq wrote copies to; no job ever ran
    assert arch.component("Redis").kind is Kind.BROKER
    assert arch.component("Redis Cache").kind is Kind.CACHE
    assert _relation(arch, "Puma", "Redis") is Relation.PUBLISHES_TO
    assert _relation(arch, "Sidekiq", "Redis") is Relation.SUBSCRIBES_TO
    (flow,) = arch.behaviour.events
    assert flow.broker == "Redis"
    assert [c.component for c in flow.consumers] == ["Sidekiq"]
    steps = [(s.action.value, s.target) for s in _op(arch, "Puma", "get_item").steps]
    assert ("cache_get", "Redis Cache") in steps  # Rails.cache stays the read-through cache


def test_one_redis_for_the_cache_and_the_jobs_stays_a_cache_and_the_file_reads() -> None:
    # Mastodon's one Redis: two of its three edges are cache edges; "pulls jobs" only votes
    arch = load(SHAPES / "mastodon.dot").architecture
    assert arch.component("redis").kind is Kind.CACHE


# -- a connection pooler before the database (rule database.pooler) ---------------------------


def test_a_pooler_is_read_through_to_its_database() -> None:
    result = load(SHAPES / "gitlab-rails.dot")
    arch = result.architecture
    assert "PgBouncer" not in {c.id for c in arch.components}
    assert _relation(arch, "Puma", "PostgreSQL") is Relation.STORES_IN
    assert _relation(arch, "Sidekiq", "PostgreSQL") is Relation.STORES_IN
    # before: the entries were GET /api/pgbouncers, a store named after the pooler
    assert not [e for e in arch.behaviour.entries if "pgbouncer" in e.id]
    assert len([d for d in result.diagnostics if d.code == "pooler"]) == 2


def test_a_pooler_given_a_kind_stays() -> None:
    arch = _arch(
        "digraph g { api -> pgbouncer; pgbouncer [kind=database]; pgbouncer -> pg; "
        "pg [shape=cylinder]; }"
    )
    assert arch.component("pgbouncer").kind is Kind.DATABASE


# -- a bucket's event into a function (rule events.notify) ------------------------------------


@pytest.mark.parametrize(
    ("label", "event"),
    [
        ("ObjectCreated event", "ObjectCreated"),
        ("s3:ObjectCreated:*", "ObjectCreated"),
        ("on ObjectCreated", "ObjectCreated"),
        ("S3 event: ObjectRemoved", "ObjectRemoved"),
        ("ItemInserted notification", "ItemInserted"),
        ("DocCreated", "DocCreated"),
        ("nightly export", None),
        ("CreateObject", None),
    ],
)
def test_the_event_a_store_notifies_is_read_from_its_label(label: str, event: str | None) -> None:
    assert notified_event(label) == event


def test_a_bucket_notifying_a_function_keeps_its_event_and_runs_the_function() -> None:
    result = load(SHAPES / "s3-lambda-pipeline.dot")
    arch = result.architecture
    # before: the edge was read as "resize_fn stores in uploads", ObjectCreated lost
    assert _consumers(arch, "ObjectCreated") == ["resize_fn.on_object_created"]
    (flow,) = [f for f in arch.behaviour.events if f.event == "ObjectCreated"]
    assert flow.broker == "uploads_events"
    assert arch.component("uploads_events").kind is Kind.BROKER
    assert arch.component("uploads").kind is Kind.DATABASE
    # the upload the gateway routes writes the bucket, its table, and publishes the event
    steps = [(s.action.value, s.target) for s in _op(arch, "upload_fn", "create_upload").steps]
    assert ("query", "uploads") in steps and ("query", "images_table") in steps
    assert ("publish", "uploads_events") in steps
    assert _consumers(arch, "ThumbnailCreated") == ["index_fn.on_thumbnail_created"]
    assert [d.code for d in result.diagnostics].count("store-notification") == 1


def test_the_pipeline_has_its_doors_at_the_gateway_and_the_managed_apis_are_external() -> None:
    result = load(SHAPES / "s3-lambda-pipeline.dot")
    arch = result.architecture
    assert arch.component("mobile").kind is Kind.CLIENT
    assert {e.id for e in arch.behaviour.entries} == {"POST /api/uploads", "GET /api/images"}
    # before: Rekognition was a service with a saga undo, CloudWatch a call on every event
    assert arch.component("rekognition").kind is Kind.EXTERNAL
    assert "logs" not in {c.id for c in arch.components}
    # an API action on a store (PutItem, GetObject) says how, as a protocol: no warning
    assert not [
        d for d in result.diagnostics if "PutItem" in d.message and d.severity.value == "warning"
    ]


def test_a_store_arrow_with_free_text_is_still_a_read() -> None:
    arch = _arch('digraph g { c [kind=client]; c -> importer; legacy_db [shape=cylinder]; '
                 'legacy_db -> importer [label="nightly export"]; }')  # fmt: skip
    assert _relation(arch, "importer", "legacy_db") is Relation.STORES_IN


# -- a broker record whose ports are its topics (rule events.topic_port) ----------------------


def test_a_subscription_to_a_broker_port_takes_what_is_published_there() -> None:
    result = load(SHAPES / "music-records.dot")
    arch = result.architecture
    # before: both consumers took both events (on_kafka_events)
    assert _consumers(arch, "TrackPlayed") == ["history.on_track_played"]
    assert _consumers(arch, "TrackPublished") == ["indexer.on_track_published"]
    assert len([d for d in result.diagnostics if d.code == "topic-port"]) == 2


def test_a_port_whose_publisher_names_no_event_leaves_its_subscriptions() -> None:
    arch = _arch(
        "digraph g { c [kind=client]; c -> a; c -> b; k [shape=record, kind=broker]; "
        'a -> adb [label="stores in"]; b -> bdb [label="stores in"]; '
        'a -> k:x; b -> k:x [label="BPosted"]; w -> k:x [label="consumes"]; }'
    )
    (handler,) = [
        o for o in arch.behaviour.operations if o.component == "w" and o.kind.value == "consume"
    ]
    assert handler.name == "on_k_events"  # ACreated and BPosted both


# -- DeathStarBench's social network ----------------------------------------------------------


def test_a_redis_written_with_sorted_set_commands_is_the_timeline_store() -> None:
    result = load(SHAPES / "social-network.dot")
    arch = result.architecture
    # before: a cache in front of nothing, and GET /home_timelines was never derived
    assert arch.component("home-timeline-redis").kind is Kind.DATABASE
    assert arch.component("user-timeline-redis").kind is Kind.CACHE  # beside its MongoDB
    steps = _op(arch, "home-timeline-service", "get_home_timeline").steps
    assert [(s.action.value, s.target) for s in steps][-1] == ("query", "home-timeline-redis")
    assert _consumers(arch, "ComposePostCreated") == [
        "write-home-timeline-service.on_compose_post_created"
    ]


def test_an_nginx_that_only_keeps_data_is_a_service_and_a_door() -> None:
    arch = load(SHAPES / "social-network.dot").architecture
    assert arch.component("nginx-thrift").kind is Kind.GATEWAY
    # before: a load balancer with nothing behind it; its GridFS link unused, no door
    assert arch.component("media-frontend").kind is Kind.SERVICE
    doors = {e.hops[0] for e in arch.behaviour.entries}
    assert doors == {"nginx-thrift", "media-frontend"}
    assert arch.component("client").kind is Kind.CLIENT


def test_cloudwatch_takes_telemetry_unless_the_edge_states_a_call() -> None:
    # before: an unlabelled edge into CloudWatch was a synchronous call on every request
    text = 'digraph g {{ gw -> app [label="routes to"]; app -> x{}; x [label="CloudWatch"]; }}'
    assert "x" not in {c.id for c in _arch(text.format("")).components}
    kept = _arch(text.format(' [relation="integrates with"]'))
    assert kept.component("x").kind is Kind.EXTERNAL
