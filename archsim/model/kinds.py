"""What things are: component kinds, layers and relations, and the rules that recognise them.

Kinds are inferred from what a component is connected by (strongest), then from its id and
label, then from its shape, and can always be forced with ``kind="…"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "CLIENT_WORDS",
    "CLOUD_VENDOR_WORDS",
    "DEVICE_APP_WORDS",
    "EVENT_NAME",
    "FRONTEND_WORDS",
    "INTERACTION",
    "NO_EVIDENCE",
    "OBSERVER_WORDS",
    "Interaction",
    "Kind",
    "Layer",
    "Relation",
    "all_past",
    "events_named",
    "kind_from_names",
    "kind_from_relations",
    "name_has",
    "name_words",
    "names_past_event",
    "target_kind_of",
]


#: What a one-word free label on a publish/subscribe edge must look like to name the event it
#: carries (``OrderPlaced``, ``order.placed``, ``orders:created``).
EVENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:\-]*")
_EVENT_LIST = re.compile(r"\s*(?:,|/|\||;|\band\b)\s*")


def events_named(label: str) -> tuple[str, ...]:
    """The events a free label names: one name (``OrderPlaced``) or a list of them
    (``AccountOpened, MoneyDeposited``; ``/``, ``|`` and ``and`` separate too); () otherwise."""
    parts = [p for p in _EVENT_LIST.split(label.strip()) if p]
    if not parts or not all(EVENT_NAME.fullmatch(p) for p in parts):
        return ()
    if len(parts) > 1 and not all(any(c.isupper() for c in p) or "." in p for p in parts):
        return ()  # "read and write": words, not a list of event names
    return tuple(dict.fromkeys(parts))


# Past participles that do not end in -ed, for event names (``NotificationSent``, ``InvoicePaid``).
_IRREGULAR_PAST = frozenset({
    "sent", "paid", "built", "made", "done", "held", "sold", "won", "lost", "known", "drawn",
    "given", "taken", "written", "chosen", "frozen", "broken", "begun", "found", "bound", "read",
    "set", "put", "cut", "run", "left", "kept", "spent", "shown", "seen", "told", "brought",
    "bought", "met", "led", "fed", "hit", "shut", "split", "grown", "thrown", "flown", "hidden",
    "driven", "fallen", "withdrawn", "undone", "overridden", "rebuilt", "resent", "dealt", "laid",
    "lent", "stood", "struck", "stuck", "upheld", "woken", "rewritten", "forgotten", "got",
    "gotten", "reset", "upset", "overdrawn", "ridden", "risen",
})  # fmt: skip
# Words that end in -ed and are not past tense (``NewsFeed``, ``ChangeFeed``, ``Need``).
_NOT_PAST = frozenset({
    "need", "feed", "seed", "speed", "embed", "breed", "bleed", "proceed", "exceed", "succeed",
    "shed", "weed", "deed", "heed", "greed", "bed", "red", "bred", "changefeed", "newsfeed",
})  # fmt: skip
_LAST_WORD = re.compile(r"(?:[A-Z]?[a-z0-9]+|[A-Z]+)$")


def names_past_event(label: str) -> bool:
    """True when every name ``events_named`` finds in ``label`` is in the past tense, as events
    are named (``NotificationSent``, ``order.created``, ``ReviewPosted``): not a verb or a noun
    (``SendMessage``, ``Notification``) that might be an API's name or a relation misread."""
    return all_past(events_named(label))


def all_past(names: Sequence[str]) -> bool:
    """True when there are names and each is in the past tense (``names_past_event``)."""
    for name in names:
        last = re.split(r"[._:\-]", name)[-1]
        found = _LAST_WORD.search(last)
        word = (found.group(0) if found else last).lower()
        past = len(word) > 3 and word.endswith("ed") and word not in _NOT_PAST
        if not (past or word in _IRREGULAR_PAST):
            return False
    return bool(names)


class Kind(StrEnum):
    """The role a component plays; it selects defaults, derived behaviour and drawing style."""

    LOAD_BALANCER = "load_balancer"
    GATEWAY = "gateway"
    SERVICE = "service"
    AUTH = "auth"
    CONFIG = "config"
    REGISTRY = "registry"
    DATABASE = "database"
    CACHE = "cache"
    BROKER = "broker"
    EXTERNAL = "external"
    CLIENT = "client"  # a traffic source drawn as a node (Browser, Load generator): serves nothing


class Layer(StrEnum):
    """The ``type`` attribute of the seed: application code or technology it runs on."""

    APPLICATION = "application"
    TECHNOLOGY = "technology"


class Relation(StrEnum):
    """The 13 relations of DESIGN.md, one per edge."""

    DISTRIBUTES_TO = "distributes_to"
    ROUTES_TO = "routes_to"
    VALIDATES_WITH = "validates_with"
    USES = "uses"
    CALLS = "calls"
    PUBLISHES_TO = "publishes_to"
    SUBSCRIBES_TO = "subscribes_to"
    SENDS_VIA = "sends_via"
    INTEGRATES_WITH = "integrates_with"
    STORES_IN = "stores_in"
    CACHES_IN = "caches_in"
    READS_FROM = "reads_from"
    REGISTERS_WITH = "registers_with"

    @property
    def label(self) -> str:
        """The relation as people write it (``routes to``)."""
        return self.value.replace("_", " ")


class Interaction(StrEnum):
    """How a relation behaves at run time; drives drawing and analysis."""

    SYNC = "sync"  # request/response on the request path
    ASYNC = "async"  # events through a broker
    DATA = "data"  # database and cache access
    INFRA = "infra"  # start-up and background: config, registry


INTERACTION: dict[Relation, Interaction] = {
    Relation.DISTRIBUTES_TO: Interaction.SYNC,
    Relation.ROUTES_TO: Interaction.SYNC,
    Relation.VALIDATES_WITH: Interaction.SYNC,
    Relation.USES: Interaction.SYNC,
    Relation.CALLS: Interaction.SYNC,
    Relation.SENDS_VIA: Interaction.SYNC,
    Relation.INTEGRATES_WITH: Interaction.SYNC,
    Relation.PUBLISHES_TO: Interaction.ASYNC,
    Relation.SUBSCRIBES_TO: Interaction.ASYNC,
    Relation.STORES_IN: Interaction.DATA,
    Relation.CACHES_IN: Interaction.DATA,
    Relation.READS_FROM: Interaction.INFRA,
    Relation.REGISTERS_WITH: Interaction.INFRA,
}

# What a relation says about its endpoints: (kind of source, kind of target); None = nothing.
_ENDPOINT_KINDS: dict[Relation, tuple[Kind | None, Kind | None]] = {
    Relation.DISTRIBUTES_TO: (Kind.LOAD_BALANCER, None),
    Relation.ROUTES_TO: (Kind.GATEWAY, None),
    Relation.VALIDATES_WITH: (None, Kind.AUTH),
    Relation.USES: (None, None),
    Relation.CALLS: (None, None),
    Relation.PUBLISHES_TO: (None, Kind.BROKER),
    Relation.SUBSCRIBES_TO: (None, Kind.BROKER),
    Relation.SENDS_VIA: (None, Kind.EXTERNAL),
    Relation.INTEGRATES_WITH: (None, Kind.EXTERNAL),
    Relation.STORES_IN: (None, Kind.DATABASE),
    Relation.CACHES_IN: (None, Kind.CACHE),
    Relation.READS_FROM: (None, Kind.CONFIG),
    Relation.REGISTERS_WITH: (None, Kind.REGISTRY),
}


def target_kind_of(relation: Relation) -> Kind | None:
    """The kind ``relation`` says its target is (``stores in``: a database), None if any."""
    return _ENDPOINT_KINDS[relation][1]


def kind_from_relations(
    outgoing: list[Relation], incoming: list[Relation]
) -> tuple[Kind, str] | None:
    """The kind the relations imply, with the reason, or None when they say nothing."""
    # (the reason is worded for the winning vote only: two per edge, a million edges)
    votes: list[tuple[Kind, str, Relation]] = []
    for rel in outgoing:
        kind = _ENDPOINT_KINDS[rel][0]
        if kind is not None:
            votes.append((kind, "source", rel))
    for rel in incoming:
        kind = _ENDPOINT_KINDS[rel][1]
        if kind is not None:
            votes.append((kind, "target", rel))
    if not votes:
        return None
    # The most frequent vote wins; ties go to the first seen (file order), which is stable.
    counts: dict[Kind, int] = {}
    for kind, _, _ in votes:
        counts[kind] = counts.get(kind, 0) + 1
    best = max(counts, key=lambda k: counts[k])
    end, rel = next((end, rel) for kind, end, rel in votes if kind is best)
    return best, f"{end} of '{rel.label}'"


# Words in ids and labels, most specific first: "Redis Cache" is a cache, not a database.
_NAME_RULES: tuple[tuple[Kind, tuple[str, ...]], ...] = (
    # DNS that spreads or fails traffic over regions (Route 53, Traffic Manager): a balancer
    (Kind.LOAD_BALANCER, ("load balancer", "loadbalancer", "lb", "haproxy", "nginx", "elb", "alb",
                          "route 53", "route53", "traffic manager", "global accelerator")),
    (Kind.GATEWAY, ("gateway", "api gw", "apigw", "ingress", "zuul", "kong", "envoy", "traefik",
                    "edge server", "edge service", "apisix", "krakend", "tyk", "ambassador",
                    "api management", "apim",
                    # a GraphQL federation's router: each query goes to the subgraphs behind it
                    "apollo router", "graphql router", "supergraph", "hasura", "graphql mesh",
                    "wundergraph", "cosmo router")),
    # a registry of models, schemas or images keeps artifacts that are read and written: a
    # store, not the service registry components register with and heartbeat to; a state
    # store (Dapr's) keeps an app's state, on Redis or not: a store, not a cache beside one
    (Kind.DATABASE, ("model registry", "schema registry", "container registry",
                     "artifact registry", "docker registry", "image registry", "mlflow",
                     "statestore", "state store")),
    (Kind.REGISTRY, ("registry", "discovery", "eureka", "consul", "zookeeper")),
    (Kind.BROKER, ("broker", "queue", "kafka", "rabbitmq", "nats", "event bus", "mq",
                   "pubsub", "sqs", "sns", "kinesis", "activemq", "pulsar", "event hub",
                   "eventbridge", "service bus", "message bus", "dlq", "dead letter", "deadletter",
                   "deadletterqueue", "topic",
                   # event sourcing's log (EventStoreDB, Marten's, Axon Server): appended
                   # to, and its subscribers (projections) take the events
                   "event store", "eventstore", "eventstoredb", "axon server",
                   # a table's change log its triggers read (DynamoDB Streams, Kafka Streams
                   # is a library, not this): a stream of records, not the table
                   "dynamodb streams", "event stream", "data stream", "data streams")),
    (Kind.CACHE, ("cache", "memcached", "redis", "valkey", "elasticache", "hazelcast")),
    (Kind.DATABASE, ("database", "db", "postgres", "postgresql", "mysql", "mongodb", "sql",
                     "mongo", "mariadb", "cassandra", "dynamodb", "sqlite", "oracle", "rds",
                     "cosmosdb", "neo4j", "datastore", "data store", "s3", "bucket",
                     "object storage", "object store", "blob storage",
                     # search indexes and analytic stores: queried and written like a database
                     "elasticsearch", "opensearch", "solr", "search index", "clickhouse",
                     "influxdb", "timescaledb", "cockroachdb", "couchdb", "couchbase",
                     "firestore", "bigtable", "hbase", "spanner", "scylladb", "redshift",
                     "bigquery")),
    (Kind.CONFIG, ("config", "configuration", "settings", "configmap", "config map", "secret",
                   "secrets", "vault", "key vault", "secrets manager", "parameter store",
                   "app configuration")),
    (Kind.AUTH, ("auth", "authentication", "identity", "oauth", "iam", "keycloak", "okta",
                 "auth0", "cognito", "sso")),
    (Kind.EXTERNAL, ("external", "provider", "third party", "smtp", "email", "mail", "stripe",
                     "paypal", "twilio", "sendgrid", "mailgun", "fcm", "apns", "firebase",
                     "push notifications", "adyen", "braintree", "google maps", "mapbox",
                     "application insights", "app insights", "cloudwatch", "sentry",
                     "honeycomb", "datadog", "new relic", "newrelic",
                     # a bank's core system of record: called, never generated
                     "mainframe", "z os", "cics", "as 400", "as400", "cobol")),
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
# "Service: web", "svc/web", svc_web: the Kubernetes object in front of a workload's pods
_K8S_SERVICE = re.compile(r"\s*(?:k8s\s+)?(?:service|svc)\s*[:/]", re.IGNORECASE)
_K8S_SERVICE_ID = re.compile(r"svc[_\-]", re.IGNORECASE)

#: Words that name a traffic source: taken only when its links agree (archsim.model.resolve).
CLIENT_WORDS = (
    "browser", "client", "clients", "user", "users", "customer", "customers", "mobile",
    "mobile app", "load generator", "loadgenerator", "load test", "loadtest", "locust", "wrk",
    "wrk2", "jmeter", "user sim", "user simulator", "simulator", "end user", "web client",
    "person", "people", "actor", "visitor", "visitors", "shopper", "shoppers", "end users",
)  # fmt: skip
#: Tools that watch or scale a system: their arrows (scrapes, scales) are not requests. Not
#: dashboards (Grafana, Kibana): their queries can be the system's own traffic (iot-telemetry).
OBSERVER_WORDS = (
    "prometheus", "alertmanager", "datadog", "new relic", "newrelic", "dynatrace", "jaeger",
    "zipkin", "splunk", "nagios", "zabbix", "pingdom", "monitoring", "hpa", "autoscaler",
    "horizontal pod autoscaler", "cluster autoscaler", "keda", "cloudwatch", "cloud watch",
    "x ray", "xray", "stackdriver", "cloud logging", "azure monitor", "log analytics",
)  # fmt: skip
#: Why a component is a service when nothing says what it is.
NO_EVIDENCE = "default for a component with no other evidence"
#: A cloud provider's name before a managed service's (Amazon Rekognition, Azure Cognitive
#: Services): such a node that links to nothing is an API the system calls, not its code.
CLOUD_VENDOR_WORDS = ("amazon", "aws", "azure", "google cloud", "gcp", "microsoft azure")
#: Words that name a front end that forwards requests to the services it ``calls``.
FRONTEND_WORDS = (
    "frontend", "front end", "webui", "web ui", "ui", "bff", "nginx", "ingress", "web server",
    "webserver", "web app", "webapp", "portal", "edge router", "cdn", "cloudfront", "akamai",
    "fastly", "front door", "storefront",
)  # fmt: skip
#: Apps on the user's device: a traffic source when nothing links to them (eShop's WebSPA),
#: else a front end that forwards to what it calls (C4's "Single-Page App" a person uses).
DEVICE_APP_WORDS = ("spa", "single page app", "single page application", "mobile app")


# Where a CamelCase name's words meet: a hump (orderDB, WebUI, S3Bucket) or the end of an
# acronym before a word (EVCache → EV Cache, APIGateway → API Gateway).
_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def _words(component_id: str, label: str | None) -> str:
    # HTML labels keep their tags; the words split at CamelCase humps (WebUI → web ui), then
    # the tokens whole (CloudFront → cloudfront), so either spelling of a word matches.
    text = re.sub(r"<[^>]*>", " ", f"{component_id} {label or ''}").replace("_", " ")
    split = _HUMP.sub(" ", text).lower()
    return f" {' '.join(_WORD.findall(split))} | {' '.join(_WORD.findall(text.lower()))} "


def name_words(text: str) -> list[str]:
    """The words of a name, lower case, for the kind rules: CamelCase tokens split at their
    humps (``OrderDB`` → order db, ``EVCache`` → ev cache, ``APIGateway`` → api gateway),
    except a token that is itself a rule's word (``MongoDB``, ``RabbitMQ``, ``ElastiCache``)."""
    words: list[str] = []
    for token in _TOKEN.findall(text):
        lower = token.lower()
        if lower == token or lower in _KEY_RANK:
            words.append(lower)
        else:
            words.extend(_HUMP.sub(" ", token).lower().split())
    return words


def name_has(component_id: str, label: str | None, words: tuple[str, ...]) -> str | None:
    """The first of ``words`` found as whole words in the id or label, or None."""
    padded, squashed = _padded(component_id, label)
    for word, spaced in _spaced(words):
        if spaced in padded or spaced in squashed:
            return word
    return None


# A component's words are asked for by a dozen rules (observers, rate limits, dead letters,
# CDC, poolers...): 6,400 calls for 2,000 components at 10,000 links, two regex passes each.
@lru_cache(maxsize=1 << 15)
def _padded(component_id: str, label: str | None) -> tuple[str, str]:
    return _words(component_id, label), " " + component_id.lower() + " "


@lru_cache(maxsize=256)
def _spaced(words: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((w, f" {w} ") for w in words)


# The rules' words, in order: built once, not per component.
_NAME_KEYS = tuple((kind, key) for kind, keys in _NAME_RULES for key in keys)
_TAG = re.compile(r"<[^>]*>")
# Each key's first place in the rules: a name's kind is the rule of the first key that is
# one of its words or runs of words (" key " in " w1 w2 … "), found by a lookup per run
# instead of a scan of the 150 keys per name (25 µs a call; 40,000 calls at 1,000,000 links).
_KEY_RANK = {key: rank for rank, (_, key) in reversed(list(enumerate(_NAME_KEYS)))}
_KEY_WORDS = max(len(key.split(" ")) for _, key in _NAME_KEYS)


def _first_key(words: list[str]) -> int | None:
    """The place in ``_NAME_KEYS`` of the first key that is a run of ``words``, or None."""
    best: int | None = None
    for n in range(1, _KEY_WORDS + 1):
        for i in range(len(words) - n + 1):
            rank = _KEY_RANK.get(words[i] if n == 1 else " ".join(words[i : i + n]))
            if rank is not None and (best is None or rank < best):
                best = rank
    return best


def kind_from_names(component_id: str, label: str | None, shape: str | None) -> tuple[Kind, str]:
    """The kind suggested by the id, label and shape alone (``service`` when nothing matches)."""
    plain = _TAG.sub(" ", label or "")  # an HTML label's tags are not its words
    if _K8S_SERVICE.match(plain) or _K8S_SERVICE_ID.match(component_id):
        return Kind.LOAD_BALANCER, "a Kubernetes Service: it spreads requests over its pods"
    rank = _first_key(name_words(f"{component_id} {plain}"))
    if rank is not None:
        kind, key = _NAME_KEYS[rank]
        return kind, f"name contains '{key}'"
    # a folder is files kept somewhere (Airflow's DAG folder, a shared volume): a store
    if shape and shape.lower() in ("cylinder", "database", "folder"):
        return Kind.DATABASE, f"shape '{shape}'"
    return Kind.SERVICE, NO_EVIDENCE
