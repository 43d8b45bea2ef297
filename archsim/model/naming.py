"""Names derived from component ids: resources, plurals, operation names, paths and events."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape

__all__ = [
    "a_kind",
    "event_name",
    "id_resource",
    "plain_label",
    "plural",
    "resource_of",
    "singular",
    "snake",
]

_SUFFIXES = ("_service", "_svc", "_server", "_api", "_app", "service")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Domain verbs that read better than "Created" in event names; anything else is "<X>Created".
_EVENT_VERBS = {"order": "Placed", "payment": "Completed", "user": "Registered"}


def a_kind(kind: str) -> str:
    """A kind's value as a phrase with its article: ``auth`` → "an auth", ``load_balancer`` →
    "a load balancer"."""
    words = kind.replace("_", " ")
    return f"{'an' if words[:1] in ('a', 'e', 'i', 'o', 'u') else 'a'} {words}"


def snake(text: str) -> str:
    """``"Order-Service 2"`` → ``order_service_2``; always a valid Python identifier."""
    name = _NON_WORD.sub("_", text.lower()).strip("_") or "component"
    return f"c_{name}" if name[0].isdigit() else name


def resource_of(component_id: str, label: str | None = None, stores: Iterable[str] = ()) -> str:
    """The resource a component serves: ``order_service`` → ``order``; an id that says nothing
    (``api``, ``svc2``, ``b``) takes it from the label instead (``Orders API`` → ``order``).
    An id of framework names (``django``, ``Rails (Puma)``, ``spring_boot_app``) takes it from
    the label, else from its primary database, the first in ``stores``, if that names one
    (``orders_db``; not ``postgres``), else is ``item``: the framework is how it is built, not
    what it serves."""
    name = _resource(component_id)
    framework = _framework_only(component_id)
    if label is not None and (framework or _says_nothing(component_id)):
        words = snake(_LABEL_NOISE.sub(" ", plain_label(label))).split("_")
        framework = framework or (any(w in _FRAMEWORKS for w in words) and _says_nothing(name))
        vague = _GENERIC_IDS | _FRAMEWORKS | _RUN_WORDS if framework else _GENERIC_IDS
        kept = [w for w in words if w not in vague]
        named = _resource("_".join(w for w in kept if not w.isdigit()))
        if not _says_nothing(named):
            return named
    if not framework:
        return name
    # its primary database (the first it stores in, which its reads use) may name the domain
    store = next(iter(stores), None)
    words = [w for w in snake(store or "").split("_") if w not in _STORE_WORDS and not w.isdigit()]
    named = _resource("_".join(words))
    if words and not _says_nothing(named) and not _framework_only(named):
        return named
    return "item"


# Frameworks, servers and runtimes an app is built on: they say how, not what it serves.
_FRAMEWORKS = frozenset({
    "django", "rails", "ror", "puma", "unicorn", "flask", "express", "expressjs", "spring",
    "springboot", "boot", "fastapi", "laravel", "symfony", "nestjs", "nest", "nodejs", "gunicorn",
    "uvicorn", "tomcat", "dotnet", "aspnet", "sinatra", "phoenix", "gin", "koa", "hapi",
    "nextjs", "nuxt", "wsgi", "asgi", "java", "python", "ruby", "php", "golang", "kotlin", "jvm",
    "monolith",
})  # fmt: skip
# How a label says it runs, or its age ("Rails app\nPuma, 4 workers", "Legacy monolith").
_RUN_WORDS = frozenset({
    "worker", "workers", "instance", "instances", "replicas", "threads", "legacy", "old", "new",
})  # fmt: skip
# What a database's id says besides what it keeps: "orders_db", "pg_main", "users-postgres".
_STORE_WORDS = frozenset({
    "db", "database", "databases", "postgres", "postgresql", "pg", "mysql", "mariadb", "sql",
    "sqlite", "mongo", "mongodb", "store", "datastore", "data", "primary", "main", "rds",
    "aurora", "cassandra", "dynamo", "dynamodb", "oracle", "mssql", "sqlserver", "replica",
    "elasticsearch", "opensearch", "es", "s3", "bucket", "redis", "clickhouse", "cosmosdb",
})  # fmt: skip


def id_resource(component_id: str) -> str:
    """The resource an id names by itself, its label and stores aside (``order_service`` →
    ``order``, ``django`` → ``django``)."""
    return _resource(component_id)


def _framework_only(name: str) -> bool:
    """True for a name made of framework and role words with one framework at least."""
    words = [w for w in snake(name).split("_") if w and not w.isdigit()]
    return any(w in _FRAMEWORKS for w in words) and all(
        w in _FRAMEWORKS or w in _GENERIC_IDS for w in words
    )


def _resource(name: str) -> str:
    name = snake(name)
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return singular(name[: -len(suffix)].rstrip("_"))
    return singular(name)


# Ids that name no resource: a role, a letter or a number ("api", "svc2", "b", "ms_1").
_GENERIC_IDS = frozenset({
    "api", "app", "application", "backend", "server", "service", "svc", "microservice", "ms",
    "node", "component", "comp", "srv", "web", "webapp", "rest", "restapi", "system",
    "apiapp", "apiapplication", "apiserver", "webapi", "container", "softwaresystem",
    # Kubernetes objects in labels ("Deployment: api"): the workload's kind, not its resource
    "deployment", "statefulset", "daemonset", "replicaset", "pod", "pods", "k8s",
})  # fmt: skip
# What a label says besides the name: "(Java)", ":8080", "[v2]".
_LABEL_NOISE = re.compile(r"\(.*?\)|\[.*?\]|:\d+")


def _says_nothing(name: str) -> bool:
    bare = re.sub(r"[\d_]+", "", snake(name))
    return len(bare) <= 2 or bare in _GENERIC_IDS


# Words that end in "s" but are not plurals (or have no singular): left as they are.
_NOT_PLURAL = ("ss", "us", "is", "news", "series", "species", "physics", "analytics", "metrics")


# Singulars that end in "ie": their plurals end in "ies" but do not come from a "y".
_IE_WORDS = (
    "movie", "cookie", "zombie", "rookie", "selfie", "hoodie", "calorie", "genie", "pie", "tie",
    "lie", "freebie", "goalie", "smoothie", "prairie", "veggie", "newbie", "sortie",
)  # fmt: skip


def _is_plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith(_NOT_PLURAL) and len(word) > 2


def singular(word: str) -> str:
    """The singular of the last word of a name: ``orders`` → ``order``, ``user_reviews`` →
    ``user_review``, ``categories`` → ``category``; anything else unchanged."""
    if not _is_plural(word):
        return word
    if word.rsplit("_", 1)[-1][:-1] in _IE_WORDS:
        return word[:-1]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def plural(word: str) -> str:
    """Naive English plural, good enough for resource paths (``category`` → ``categories``);
    a word that already is a plural stays as it is (``orders``), so names pluralise once."""
    if _is_plural(word) or word.endswith(_NOT_PLURAL[3:]):
        return word
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def event_name(resource: str) -> str:
    """The event a write on ``resource`` publishes: ``order`` → ``OrderPlaced``."""
    camel = "".join(part.capitalize() for part in resource.split("_"))
    return camel + _EVENT_VERBS.get(resource, "Created")


_TAG = re.compile(r"<[^<>]*>")
_SPACES = re.compile(r"\s+")


def plain_label(label: str) -> str:
    """A label as one line of plain text: an HTML label (kept with its outer ``<…>``, e.g.
    ``<<b>A</b><br/>b>``) without tags and entities (``A b``), line breaks as spaces."""
    text = label
    if len(label) > 1 and label.startswith("<") and label.endswith(">"):
        text = unescape(_TAG.sub(" ", label[1:-1]))
    return _SPACES.sub(" ", text.replace("\\n", " ")).strip() or label
