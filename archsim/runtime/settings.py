"""Process settings read from the environment: who am I, where is everything else.

The launcher (and compose/Kubernetes manifests) set these; a component id becomes an env name by
upper-casing it and replacing other characters with ``_`` (``order-api`` → ``ORDER_API``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

__all__ = ["Settings", "env_name"]

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def env_name(component: str) -> str:
    """The env-var form of a component id: ``order-api`` → ``ORDER_API``."""
    return _NON_ALNUM.sub("_", component).strip("_").upper()


def _optional(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


@dataclass
class Settings:
    """Everything a runtime process reads from its environment (times in seconds)."""

    service: str = "service"
    instance: str = "service-1"
    stack: str = "stack"
    host: str = "127.0.0.1"
    port: int = 0
    emulate: bool = False
    # set: override the model's intervals (its lifecycle, in the SPEC); None: the model's
    heartbeat_s: float | None = None
    lookup_ttl_s: float | None = None
    # set: override the model's event redelivery (REDELIVER_S); None: the SPEC's
    redeliver_s: float | None = None
    # set: how long a gateway trusts a validated token (0: ask every time); None: the SPEC's
    token_cache_s: float | None = None
    log_level: str = "INFO"
    log_requests: bool = False
    env: dict[str, str] = field(default_factory=dict)
    _addresses: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, service: str | None = None) -> Settings:
        """Read ``ARCHSIM_*`` variables (and ``DATABASE_URL``/``REDIS_URL`` fallbacks)."""
        env = dict(os.environ)
        name = service or env.get("ARCHSIM_SERVICE", "service")
        return cls(
            service=name,
            instance=env.get("ARCHSIM_INSTANCE", f"{name}-{os.getpid()}"),
            stack=env.get("ARCHSIM_STACK", "stack"),
            host=env.get("ARCHSIM_HOST", "127.0.0.1"),
            port=int(env.get("ARCHSIM_PORT", "0")),
            emulate=env.get("ARCHSIM_EMULATE", "0").lower() in ("1", "true", "yes", "on"),
            heartbeat_s=_optional("ARCHSIM_HEARTBEAT_S"),
            lookup_ttl_s=_optional("ARCHSIM_LOOKUP_TTL_S"),
            redeliver_s=_optional("ARCHSIM_REDELIVER_S"),
            token_cache_s=_optional("ARCHSIM_TOKEN_CACHE_S"),
            log_level=env.get("ARCHSIM_LOG_LEVEL", "INFO"),
            log_requests=env.get("ARCHSIM_LOG_REQUESTS", "0").lower() in ("1", "true", "yes"),
            env=env,
        )

    @property
    def self_url(self) -> str:
        """The base URL other processes reach this instance at."""
        return self.env.get("ARCHSIM_PUBLIC_URL") or f"http://{self.host}:{self.port}"

    def addresses(self, component: str) -> list[str]:
        """Static base URLs of ``component`` (``ARCHSIM_ADDR_<ID>``, comma-separated)."""
        cached = self._addresses.get(component)
        if cached is None:  # asked on every call: parse the env once
            raw = self.env.get(f"ARCHSIM_ADDR_{env_name(component)}", "")
            cached = [url.strip().rstrip("/") for url in raw.split(",") if url.strip()]
            self._addresses[component] = cached
        return cached

    def resource_url(self, component: str, kind: str) -> str | None:
        """URL of a database, cache, broker or SMTP server: ``ARCHSIM_URL_<ID>``, else the
        stack-wide ``DATABASE_URL`` (databases) or ``REDIS_URL`` (caches and brokers)."""
        url = self.env.get(f"ARCHSIM_URL_{env_name(component)}")
        if url:
            return url
        if kind == "database":
            return self.env.get("DATABASE_URL")
        if kind in ("cache", "broker"):
            return self.env.get("REDIS_URL")
        return None

    def required_url(self, component: str, kind: str, default: str | None = None) -> str:
        """``resource_url``, else ``default``; RuntimeError naming the variable to set."""
        url = self.resource_url(component, kind) or default
        if not url:
            raise RuntimeError(
                f"no URL for {kind} {component!r}: set ARCHSIM_URL_{env_name(component)}"
            )
        return url
