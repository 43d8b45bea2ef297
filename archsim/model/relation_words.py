"""How an edge's label names a relation, a protocol, or neither.

Relations are normalised from edge labels (``"Routes To"``, ``routes_to``, a C4 description,
another tense of a relation's word: ``emails``); a protocol or route (``gRPC``, ``GET /orders``)
says how, not which relation, so the edge is read by its target's kind; a label one or two
letters from a relation's spelling is a typo (docs/behaviour.md, "Labels").
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from archsim.model.kinds import Relation

__all__ = [
    "agrees_with",
    "misspells_relation",
    "names_job",
    "names_protocol",
    "normalise_relation",
    "suggest_relation",
]


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
    "wss", "ssh", "http/2", "http2", "http/1.1", "quic", "sse", "server sent events", "webhook",
    "webhooks", "hls", "rtmp", "webrtc", "smtp", "ftp", "sftp", "jwt", "oidc", "oauth2",
    "saml",
})  # fmt: skip
_PROTOCOLS = _TRANSPORTS | frozenset({
    # how events are delivered, not which: "queue -> worker [label=trigger]" takes them all
    "trigger", "triggers", "event", "events", "message", "messages", "poll", "polls", "push",
    "pushes", "fan out", "fanout", "stream", "streams",
    # a database's copy of itself: replication or backups, drawn between two stores
    "replication", "replicates", "replicate", "replica", "async replication",
    "sync replication", "streaming replication", "logical replication", "backup", "backups",
    "snapshot", "snapshots",
    # how a GraphQL router asks its subgraphs (Apollo's words): a call, by the target's kind
    "subgraph fetch", "subgraph query", "subgraph", "federated query", "query plan",
    # how a proxy hands a request on (nginx's directive, its upstream block): the relation
    # is the proxy's kind's — a balancer distributes, a gateway routes
    "proxy pass", "reverse proxy", "upstream", "proxied", "proxy",
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
# A store's API action (DynamoDB's PutItem, S3's GetObject, UpdateItem, BatchWriteItem): it
# says how the data is reached, as a protocol does; the edge is read by the target's kind.
_STORE_ACTION = re.compile(
    r"(?:Get|Put|Update|Delete|Query|Scan|List|Batch|Head|Copy|Select|Transact)[A-Z][A-Za-z]*"
)

# Redis commands written on the edge ("GET/SET", "HSET/HGET", "ZADD", "INCR + EXPIRE"): how
# the data is reached, as a store's API action is
_REDIS_COMMAND = (
    r"(?:GET|SET|SETEX|SETNX|MGET|MSET|DEL|INCR|INCRBY|DECR|EXPIRE|TTL|EXISTS|HGET|HSET|HMGET"
    r"|HMSET|HGETALL|HDEL|HINCRBY|LPUSH|RPUSH|LPOP|RPOP|LRANGE|SADD|SREM|SMEMBERS|ZADD|ZREM"
    r"|ZRANGE|ZREVRANGE|ZRANGEBYSCORE|ZINCRBY|XADD|XREAD|GEOADD|GEORADIUS|GEOSEARCH|PFADD)"
)
_REDIS_COMMANDS = re.compile(
    rf"{_REDIS_COMMAND}(?:\s*[/,+&|]\s*{_REDIS_COMMAND}|\s+{_REDIS_COMMAND})*"
)

# "1000 req/min", "100 req/s burst 20", "(5k rps)", "rate limit 50/s", "throttled 10 rps"
_RATE = re.compile(
    r"\(?\s*(?:(?:rate[\s\-]?limit(?:ed|ing)?|throttl(?:e|ed|ing)|quota|max)\s*:?\s*)?"
    r"\d[\d,._]*\s*k?\s*(?:(?:req(?:uests?)?|calls?|msgs?|messages?)\s*/\s*"
    r"(?:s|sec|second|min|minute|h|hr|hour)|rps|qps|/\s*(?:s|sec|min|h))"
    r"(?:\s*,?\s*burst\s*:?\s*\d+)?\s*\)?",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[\s_\-]+")
# A job or task put on a queue, or taken from one (Sidekiq, Celery, Resque, BullMQ): "enqueues
# job", "pushes jobs to", "pulls jobs from", "pops tasks off". The queue is a broker whatever it
# runs on: read as a cache, a Redis holding Sidekiq's queues took every job as a cache write.
_JOB = (
    r"(?:an? |the )?(?:(?:background|async|sidekiq|celery|resque|pending|queued|new) )?"
    r"(?:jobs?|tasks?|work items?)"
)
_JOB_PUT = re.compile(
    rf"perform later|perform async|apply async|(?:(?:en)?queue[sd]?|push(?:es|ed)?|submits?"
    rf"|schedules?|dispatch(?:es)?|adds?|puts?|sends?|creates?) {_JOB}(?: (?:to|on|onto|into|in))?"
)
_JOB_TAKE = re.compile(
    rf"(?:pull(?:s|ed)?|fetch(?:es|ed)?|pops?|takes?|dequeues?|consumes?|claims?"
    rf"|reserves?|receives?|picks? up|brpop|blpop) {_JOB}(?: (?:from|off|of|on))?"
)
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
    job = _job_relation(normal) or _job_relation(described)
    if job is not None:
        return job
    word = next((w for w in (normal, described) if w and " " not in w), None)
    return _BY_STEM.get(_stem(word)) if word is not None else None


def names_job(label: str) -> bool:
    """True for a label that puts a job on a queue or takes jobs from one (``enqueues job``,
    ``pulls jobs from``): read so only when its target is a broker (the loader's votes)."""
    return _job_relation(_normal(label)) is not None or _job_relation(_described(label)) is not None


def _job_relation(words: str) -> Relation | None:
    """``publishes to`` for a job put on a queue (``enqueues job``, ``perform_later``),
    ``subscribes to`` for jobs taken from one (``pulls jobs from``), else None."""
    if _JOB_TAKE.fullmatch(words):
        return Relation.SUBSCRIBES_TO
    return Relation.PUBLISHES_TO if _JOB_PUT.fullmatch(words) else None


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
    if _normal(text) in _PROTOCOLS or _ROUTE.fullmatch(text) or _STORE_ACTION.fullmatch(text):
        return True
    if _REDIS_COMMANDS.fullmatch(text):
        return True
    prefix = _PROTOCOL_PREFIX.fullmatch(text)
    if prefix and _normal(prefix.group(1)) in _TRANSPORTS:
        return True
    call = _PROTOCOL_CALL.fullmatch(text)
    if call and call.group(1).lower() in _CALL_PROTOCOLS:
        return True
    head, _, route = text.partition(" ")  # a transport and a route: "REST /todos"
    if route and _normal(head) in _TRANSPORTS and _ROUTE.fullmatch(route.strip()):
        return True
    parts = [part for part in _PROTOCOL_LIST.split(text) if part]
    return len(parts) > 1 and all(
        _normal(part) in _PROTOCOLS or _ROUTE.fullmatch(part) for part in parts
    )


# What a service does with the data it keeps ("read", "upsert", "append events", "lookup
# user"): said of a database or cache it agrees with the target's kind, as a protocol does.
_DATA_VERBS = frozenset(_stem(w) for w in (
    "read", "write", "upsert", "insert", "update", "delete", "select", "save", "load", "fetch",
    "append", "store", "lookup", "look", "get", "put", "scan", "retrieve", "find", "search",
    "index", "count", "aggregate", "list", "set", "increment",
))  # fmt: skip


# ... and what is done with a log or a stream: "append events" to an event store, "put
# records" on Kinesis
_LOG_VERBS = frozenset(_stem(w) for w in ("append", "put", "write"))


# ... and what is asked of an auth service: "authorize JWT", "verify token"
_AUTH_VERBS = frozenset(_stem(w) for w in (
    "authorize", "authorise", "authenticate", "verify", "validate", "check", "introspect",
))  # fmt: skip


# An API's action in PascalCase, verb first (SES's SendEmail, Stripe's CreateCharge): the call
# an edge to an external system makes
_API_CALL = re.compile(r"(?:[A-Z][a-z]+){2,4}")
_AGREEING_VERBS = {
    Relation.STORES_IN: _DATA_VERBS,
    Relation.CACHES_IN: _DATA_VERBS,
    Relation.PUBLISHES_TO: _LOG_VERBS,
    Relation.VALIDATES_WITH: _AUTH_VERBS,
}


@lru_cache(maxsize=4096)
def agrees_with(label: str, relation: Relation) -> bool:
    """True for a label that says what is done over ``relation`` rather than which relation:
    a verb of data first to a store (``read``, ``upsert``, ``Lookup user``), of writing to a
    log (``append events``, ``put records``), of checking a caller to auth (``authorize
    JWT``), or an API call's name to an external system (``SendEmail``)."""
    if relation in (Relation.INTEGRATES_WITH, Relation.SENDS_VIA):
        return bool(_API_CALL.fullmatch(label.strip()))
    words = _normal(label).split()
    return bool(words) and _stem(words[0]) in _AGREEING_VERBS.get(relation, ())


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
