"""What things are: component kinds, layers and relations, and the rules that recognise them.

Relations are normalised from edge labels (``"Routes To"``, ``routes_to`` → ``routes_to``);
kinds are inferred from what a component is connected by (strongest), then from its id and
label, then from its shape, and can always be forced with ``kind="…"``.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "CLIENT_WORDS",
    "DEVICE_APP_WORDS",
    "EVENT_NAME",
    "FRONTEND_WORDS",
    "INTERACTION",
    "OBSERVER_WORDS",
    "Interaction",
    "Kind",
    "Layer",
    "Relation",
    "events_named",
    "kind_from_names",
    "kind_from_relations",
    "misspells_relation",
    "name_has",
    "names_past_event",
    "names_protocol",
    "normalise_relation",
    "suggest_relation",
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
    names = events_named(label)
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

# Other ways people write the same relation; keys are normalised (lower case, single spaces).
_SYNONYMS: dict[str, Relation] = {
    **{r.label: r for r in Relation},
    "distributes": Relation.DISTRIBUTES_TO,
    "balances to": Relation.DISTRIBUTES_TO,
    "load balances to": Relation.DISTRIBUTES_TO,
    "routes": Relation.ROUTES_TO,
    "route to": Relation.ROUTES_TO,
    "forwards to": Relation.ROUTES_TO,
    "validates": Relation.VALIDATES_WITH,
    "authenticates with": Relation.VALIDATES_WITH,
    "authenticates via": Relation.VALIDATES_WITH,
    "use": Relation.USES,
    "call": Relation.CALLS,
    "invokes": Relation.CALLS,
    "requests": Relation.CALLS,
    "publishes": Relation.PUBLISHES_TO,
    "publish to": Relation.PUBLISHES_TO,
    "emits to": Relation.PUBLISHES_TO,
    "produces to": Relation.PUBLISHES_TO,
    "subscribes": Relation.SUBSCRIBES_TO,
    "subscribe to": Relation.SUBSCRIBES_TO,
    "consumes from": Relation.SUBSCRIBES_TO,
    "listens to": Relation.SUBSCRIBES_TO,
    "sends through": Relation.SENDS_VIA,
    "sends email via": Relation.SENDS_VIA,
    "integrates": Relation.INTEGRATES_WITH,
    "integrate with": Relation.INTEGRATES_WITH,
    "stores": Relation.STORES_IN,
    "store in": Relation.STORES_IN,
    "persists to": Relation.STORES_IN,
    "persists in": Relation.STORES_IN,
    "writes to": Relation.STORES_IN,
    "caches": Relation.CACHES_IN,
    "cache in": Relation.CACHES_IN,
    "caches to": Relation.CACHES_IN,
    "read from": Relation.READS_FROM,
    "reads config from": Relation.READS_FROM,
    "gets config from": Relation.READS_FROM,
    "registers": Relation.REGISTERS_WITH,
    "register with": Relation.REGISTERS_WITH,
    "registers in": Relation.REGISTERS_WITH,
    # nouns and verbs people write instead of the relation
    "balances": Relation.DISTRIBUTES_TO,
    "load balances": Relation.DISTRIBUTES_TO,
    "proxies to": Relation.ROUTES_TO,
    "authenticates": Relation.VALIDATES_WITH,
    "authorizes with": Relation.VALIDATES_WITH,
    "checks token": Relation.VALIDATES_WITH,
    "introspect token": Relation.VALIDATES_WITH,
    "introspects token": Relation.VALIDATES_WITH,
    "introspects tokens": Relation.VALIDATES_WITH,
    "token introspection": Relation.VALIDATES_WITH,
    "validate token": Relation.VALIDATES_WITH,
    "publish": Relation.PUBLISHES_TO,
    "emits": Relation.PUBLISHES_TO,
    "produces": Relation.PUBLISHES_TO,
    "produce": Relation.PUBLISHES_TO,
    "emit": Relation.PUBLISHES_TO,
    "enqueue": Relation.PUBLISHES_TO,
    "enqueues": Relation.PUBLISHES_TO,
    # a redrive job puts dead letters back on their topic: a publish, not a typo of one
    "republish": Relation.PUBLISHES_TO,
    "republishes": Relation.PUBLISHES_TO,
    "re publish": Relation.PUBLISHES_TO,
    "re publishes": Relation.PUBLISHES_TO,
    "sends events to": Relation.PUBLISHES_TO,
    "subscribe": Relation.SUBSCRIBES_TO,
    "consumes": Relation.SUBSCRIBES_TO,
    "consume": Relation.SUBSCRIBES_TO,
    "listens": Relation.SUBSCRIBES_TO,
    "listens on": Relation.SUBSCRIBES_TO,
    "cache": Relation.CACHES_IN,
    "cached in": Relation.CACHES_IN,
    "caching": Relation.CACHES_IN,
    "read/write": Relation.STORES_IN,
    "reads/writes": Relation.STORES_IN,
    "read write": Relation.STORES_IN,
    "writes": Relation.STORES_IN,
    "write": Relation.STORES_IN,
    "persists": Relation.STORES_IN,
    "queries": Relation.STORES_IN,
    "query": Relation.STORES_IN,
    "sql": Relation.STORES_IN,
    "jdbc": Relation.STORES_IN,
    "orm": Relation.STORES_IN,
    "config": Relation.READS_FROM,
    "configuration": Relation.READS_FROM,
    "reads config": Relation.READS_FROM,
    "register": Relation.REGISTERS_WITH,
    "registration": Relation.REGISTERS_WITH,
    "discovery": Relation.REGISTERS_WITH,
    "service discovery": Relation.REGISTERS_WITH,
    "smtp": Relation.SENDS_VIA,
    "email": Relation.SENDS_VIA,
    "sends email": Relation.SENDS_VIA,
    "send email": Relation.SENDS_VIA,
    "sends emails": Relation.SENDS_VIA,
    "send emails": Relation.SENDS_VIA,
    "sends mail": Relation.SENDS_VIA,
    "send mail": Relation.SENDS_VIA,
    "mail": Relation.SENDS_VIA,
    "mails": Relation.SENDS_VIA,
    "e mail": Relation.SENDS_VIA,
    "notifies via": Relation.SENDS_VIA,
    # C4 (Structurizr) descriptions, read without their "[Technology]" and final preposition
    "makes api calls": Relation.CALLS,
    "makes calls": Relation.CALLS,
    "calls api": Relation.CALLS,
    "reads from and writes": Relation.STORES_IN,
    "reads and writes": Relation.STORES_IN,
    "reads and writes data": Relation.STORES_IN,
    "stores data": Relation.STORES_IN,
    "sends messages": Relation.PUBLISHES_TO,
    "publishes events": Relation.PUBLISHES_TO,
    "consumes events": Relation.SUBSCRIBES_TO,
    "consumes messages": Relation.SUBSCRIBES_TO,
    # words that were read as typos of a relation they do name (Mastodon's "emails")
    "dequeue": Relation.SUBSCRIBES_TO,
    "dequeues": Relation.SUBSCRIBES_TO,
    "sends events": Relation.PUBLISHES_TO,
    "discovers": Relation.REGISTERS_WITH,
    "discovers via": Relation.REGISTERS_WITH,
}

#: Protocols and styles written on edges: they say how, not which relation, so the edge is read
#: by its target's kind like an unlabelled one.
_TRANSPORTS = frozenset({
    "http", "https", "http/json", "https/json", "rest", "rest api", "api", "json", "grpc", "rpc",
    "soap", "graphql", "tcp", "websocket", "websockets", "ws", "thrift", "sync", "async",
    "request", "amqp", "mqtt", "kafka", "nats", "redis", "tls", "mtls",
    "wss", "http/2", "http2", "http/1.1", "quic", "sse", "server sent events", "webhook",
    "webhooks", "hls", "rtmp", "webrtc", "smtp", "ftp", "sftp", "jwt", "oidc", "oauth2",
    "saml",
})  # fmt: skip
_PROTOCOLS = _TRANSPORTS | frozenset({
    # how events are delivered, not which: "queue -> worker [label=trigger]" takes them all
    "trigger", "triggers", "event", "events", "message", "messages", "poll", "polls", "push",
    "pushes", "fan out", "fanout", "stream", "streams",
    # a task queue's work items (Celery, Sidekiq): "redis -> worker [label=tasks]" takes them all
    "task", "tasks", "job", "jobs",
    # what a gateway keeps in its cache (archsim.model.rate_limits): how, not which relation
    "rate limit", "rate limits", "rate limiting", "rate limiter", "ratelimit", "throttling",
    # change data capture between a database and its connector (archsim.model.cdc)
    "cdc", "wal", "binlog", "oplog", "change stream", "change streams", "changefeed",
    "change feed", "change data capture", "debezium",
})  # fmt: skip
# A route written on the edge ("GET /orders", "POST /v1/charges", "/accounts"): it says how
# the call is made, like a protocol, so the edge is read by its target's kind.
_ROUTE = re.compile(
    r"(?:get|post|put|patch|delete|head|options)\s+\S+|(?:(?:get|post|put|patch|delete)\s+)?/\S*",
    re.IGNORECASE,
)
# Several protocols at once ("HTTPS, mTLS", "REST + JSON"), or a transport with the call's name
# after a colon ("gRPC: ReserveStock"; "event: OrderPlaced" names an event, not a protocol).
_PROTOCOL_LIST = re.compile(r"\s*(?:,|;|\+|&|\band\b)\s*")
_PROTOCOL_PREFIX = re.compile(r"([^:]+):\s*\S.*")
# A call protocol with the method's name after a space ("gRPC Predict", "SOAP GetBalance"); an
# event after a messaging word ("Kafka OrderPlaced") stays free text: it names the event.
_CALL_PROTOCOLS = frozenset({"grpc", "rpc", "rest", "http", "https", "soap", "thrift", "graphql"})
_PROTOCOL_CALL = re.compile(r"(\S+)\s+[A-Z][A-Za-z0-9_]*")

# "1000 req/min", "100 req/s burst 20", "(5k rps)", "rate limit 50/s", "throttled 10 rps"
_RATE = re.compile(
    r"\(?\s*(?:(?:rate[\s\-]?limit(?:ed|ing)?|throttl(?:e|ed|ing)|quota|max)\s*:?\s*)?"
    r"\d[\d,._]*\s*k?\s*(?:(?:req(?:uests?)?|calls?|msgs?|messages?)\s*/\s*"
    r"(?:s|sec|second|min|minute|h|hr|hour)|rps|qps|/\s*(?:s|sec|min|h))"
    r"(?:\s*,?\s*burst\s*:?\s*\d+)?\s*\)?",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[\s_\-]+")
_CAMEL_CASE = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+")


def _normal(text: str) -> str:
    return _SEPARATORS.sub(" ", text.strip().lower()).strip()


# What a C4-style description adds to the words of a relation: "[JSON/HTTPS]", a second line,
# a final preposition ("Sends e-mail using").
_TECHNOLOGY = re.compile(r"\[[^\]]*\]|\{[^}]*\}")
_LINE_BREAK = re.compile(r"\\[nlr]|\n")
_FINAL_PREPOSITION = re.compile(r" (to|using|via|with|from|in|on|through|into)$")


def _described(text: str) -> str:
    """A description's words: its first line without ``[Technology]``, ``e-mail`` as ``email``,
    without a final preposition (``Sends e-mail using\\n[SMTP]`` → ``sends email``)."""
    first = next((line for line in _LINE_BREAK.split(text) if line.strip()), text)
    words = _normal(_TECHNOLOGY.sub(" ", first)).replace("e mail", "email")
    return _FINAL_PREPOSITION.sub("", words)


_INFLECTIONS = re.compile(r"(?:ies|(?<=[sxz])es|(?<=[cs]h)es|ing|ed|s)$")


def _stem(word: str) -> str:
    """A word without its inflection or final ``e`` (``emails``→``email``; ``cache``,
    ``caches``, ``cached``→``cach``; ``queries``→``query``): a relation's word in any tense
    or number. A stem shorter than three letters keeps the word (``uses``, ``used``→``use``)."""
    stem = _INFLECTIONS.sub(lambda m: "y" if m.group() == "ies" else "", word)
    if len(stem) < 3 or word.endswith("ss"):
        stem = word[:-1] if word.endswith(("ed", "es")) else word
    return stem[:-1] if stem.endswith("e") and len(stem) > 3 else stem


def _by_stem() -> dict[str, Relation]:
    """The one-word synonyms by their stems, leaving out a stem two relations share. Only one
    word: "send message" to a service is not "sends messages", publishing to a broker."""
    found: dict[str, Relation | None] = {}
    for word, relation in _SYNONYMS.items():
        if " " not in word and "/" not in word:
            stem = _stem(word)
            found[stem] = relation if found.get(stem, relation) is relation else None
    return {stem: relation for stem, relation in found.items() if relation is not None}


_BY_STEM = _by_stem()


# Pure, and asked once per edge of labels a file repeats (a million edges, a few labels).
@lru_cache(maxsize=4096)
def normalise_relation(label: str) -> Relation | None:
    """Map a label (``"Routes To"``, ``routes_to``, ``routes-to``, a C4 description
    ``"Makes API calls to\\n[JSON/HTTPS]"``, another tense or number of a relation's words:
    ``emails``, ``store``, ``cached``) to a Relation, or None."""
    normal, described = _normal(label), _described(label)
    found = _SYNONYMS.get(normal) or _SYNONYMS.get(described)
    if found is not None or names_protocol(label):  # "request" says how, as "requests" does not
        return found
    word = next((w for w in (normal, described) if w and " " not in w), None)
    return _BY_STEM.get(_stem(word)) if word is not None else None


def suggest_relation(label: str, cutoff: float = 0.6) -> str | None:
    """The closest known spelling of ``label`` (for 'did you mean …' hints), or None."""
    matches = difflib.get_close_matches(_normal(label), list(_SYNONYMS), n=1, cutoff=cutoff)
    return _SYNONYMS[matches[0]].label if matches else None


@lru_cache(maxsize=4096)
def names_protocol(label: str) -> bool:
    """True for a label that names a protocol or style (``REST``, ``gRPC``, ``HTTPS``) rather
    than a relation: also a route (``GET /orders``), several protocols (``HTTPS, mTLS``) and a
    protocol with the call's name (``gRPC: ReserveStock``, ``gRPC Predict``)."""
    # a rate or rate limit says how much, as a protocol says how: "HTTPS (1000 req/min)"
    text = _RATE.sub(" ", label).strip(" ,;()")
    if not text and label.strip():
        return True
    if _normal(text) in _PROTOCOLS or _ROUTE.fullmatch(text):
        return True
    prefix = _PROTOCOL_PREFIX.fullmatch(text)
    if prefix and _normal(prefix.group(1)) in _TRANSPORTS:
        return True
    call = _PROTOCOL_CALL.fullmatch(text)
    if call and call.group(1).lower() in _CALL_PROTOCOLS:
        return True
    parts = [part for part in _PROTOCOL_LIST.split(text) if part]
    return len(parts) > 1 and all(
        _normal(part) in _PROTOCOLS or _ROUTE.fullmatch(part) for part in parts
    )


def misspells_relation(label: str) -> str | None:
    """The relation ``label`` looks like a typo of (``subscibes to``), or None: such a label is
    an error, while other free text (a sentence, a description) is read by the target's kind."""
    if len(_normal(label).split()) > 3:
        return None  # a sentence, not a mistyped relation
    if _CAMEL_CASE.fullmatch(label.strip()):
        return None  # a name (SQS's SendMessage, an event OrderPlaced), not a mistyped phrase
    normal = _normal(label)
    matches = difflib.get_close_matches(normal, list(_SYNONYMS), n=1, cutoff=0.85)
    # a slip of the keys is a letter or two ("subscibes to"); "pushes to" is another verb
    if not matches or _edits(normal, matches[0]) > 2:
        return None
    return _SYNONYMS[matches[0]].label


def _edits(a: str, b: str) -> int:
    """Letters inserted, deleted, changed or swapped with a neighbour to turn ``a`` into ``b``
    (the optimal string alignment distance)."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, start=1):
        row = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


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
                    "api management", "apim")),
    # a registry of models, schemas or images keeps artifacts that are read and written: a
    # store, not the service registry components register with and heartbeat to; a state
    # store (Dapr's) keeps an app's state, on Redis or not: a store, not a cache beside one
    (Kind.DATABASE, ("model registry", "schema registry", "container registry",
                     "artifact registry", "docker registry", "image registry", "mlflow",
                     "statestore", "state store")),
    (Kind.REGISTRY, ("registry", "discovery", "eureka", "consul", "zookeeper")),
    (Kind.BROKER, ("broker", "queue", "kafka", "rabbitmq", "nats", "event bus", "mq", "pubsub",
                   "sqs", "sns", "kinesis", "activemq", "pulsar", "event hub", "eventbridge",
                   "service bus", "message bus", "dlq", "dead letter", "deadletter",
                   "deadletterqueue")),
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
    "horizontal pod autoscaler", "cluster autoscaler", "keda",
)  # fmt: skip
#: Words that name a front end that forwards requests to the services it ``calls``.
FRONTEND_WORDS = (
    "frontend", "front end", "webui", "web ui", "ui", "bff", "nginx", "ingress", "web server",
    "webserver", "web app", "webapp", "portal", "edge router", "cdn", "cloudfront", "akamai",
    "fastly", "front door", "storefront",
)  # fmt: skip
#: Apps on the user's device: a traffic source when nothing links to them (eShop's WebSPA),
#: else a front end that forwards to what it calls (C4's "Single-Page App" a person uses).
DEVICE_APP_WORDS = ("spa", "single page app", "single page application", "mobile app")


def _words(component_id: str, label: str | None) -> str:
    # HTML labels keep their tags; split camelCase ids (WebUI → web ui) so words match.
    text = re.sub(r"<[^>]*>", " ", f"{component_id} {label or ''}")
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return " " + " ".join(_WORD.findall(text.lower().replace("_", " "))) + " "


def name_has(component_id: str, label: str | None, words: tuple[str, ...]) -> str | None:
    """The first of ``words`` found as whole words in the id or label, or None."""
    padded = _words(component_id, label)
    squashed = " " + component_id.lower() + " "
    return next((w for w in words if f" {w} " in padded or f" {w} " in squashed), None)


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
    rank = _first_key(_WORD.findall(f"{component_id} {plain}".lower().replace("_", " ")))
    if rank is not None:
        kind, key = _NAME_KEYS[rank]
        return kind, f"name contains '{key}'"
    # a folder is files kept somewhere (Airflow's DAG folder, a shared volume): a store
    if shape and shape.lower() in ("cylinder", "database", "folder"):
        return Kind.DATABASE, f"shape '{shape}'"
    return Kind.SERVICE, "default for a component with no other evidence"
