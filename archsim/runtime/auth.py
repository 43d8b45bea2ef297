"""JWT tokens with real signatures (PyJWT, HS256): issued and checked by the auth service.
Issuing one takes a client credential (HTTP Basic, ``client_id:client_secret``): each client's
secret is an HMAC of the stack's signing secret, so the auth service checks it without a store
and the launcher hands every minting service its own in its environment, never in a file.
A gateway asks the auth service on every request, as the model's ``validates with`` step
says; ``ARCHSIM_TOKEN_CACHE_S`` > 0 lets it trust a validated token that long (``TokenCache``)
— then the model must say so too (the link's ``p``), or predictions count calls never made."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
import uuid
from collections.abc import Collection
from typing import Any

import jwt

__all__ = [
    "ENTRY_CLIENT",
    "OWASP_PBKDF2_ROUNDS",
    "ROUNDS_ENV",
    "ClientError",
    "TokenCache",
    "TokenError",
    "TokenService",
    "bearer_token",
    "client_header",
    "client_secret",
    "hash_password",
    "hash_rounds",
    "rounds_warning",
    "verify_password",
]


#: Verified token strings remembered by the auth service (cleared when full).
_MAX_VERIFIED = 10_000


class TokenError(Exception):
    """A token that is missing, malformed, expired or wrongly signed."""


#: The client id of the stack owner's own callers (the load test signing in at the auth
#: service, tests): its secret derives from the signing secret, which only the owner can read.
ENTRY_CLIENT = "client"


class ClientError(Exception):
    """A token request without a valid client credential (``status`` 401) or from a client
    that may not mint tokens (403)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def client_secret(signing_secret: str, client: str) -> str:
    """The credential of ``client``: HMAC-SHA256 of its id under the stack's signing secret."""
    message = f"archsim-client:{client}".encode()
    return hmac.new(signing_secret.encode(), message, hashlib.sha256).hexdigest()


def client_header(client: str, secret: str) -> str:
    """The ``Authorization`` value a client sends to mint a token (HTTP Basic)."""
    return "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()


class TokenService:
    """Issues and verifies tokens with a secret only the auth service holds."""

    def __init__(self, secret: str, issuer: str, ttl_s: float) -> None:
        if len(secret) < 32:
            raise ValueError("the signing secret must be at least 32 characters")
        self.secret = secret
        self.issuer = issuer
        self.ttl_s = ttl_s
        self._verified: dict[str, dict[str, Any]] = {}  # token → claims, signature checked

    def issue(self, subject: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
        """A signed access token for ``subject``."""
        now = int(time.time())
        payload = {
            **(claims or {}),
            "sub": subject,
            "iss": self.issuer,
            "iat": now,
            "exp": now + int(self.ttl_s),
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(payload, self.secret, algorithm="HS256")
        return {"access_token": token, "token_type": "bearer", "expires_in": int(self.ttl_s)}

    def client(self, authorization: str | None, allowed: Collection[str]) -> str:
        """The id of the client a Basic ``authorization`` proves, if it is ``allowed`` to mint
        tokens; ClientError (401 no or wrong credential, 403 a client that may not)."""
        scheme, _, raw = (authorization or "").partition(" ")
        if scheme.lower() != "basic" or not raw.strip():
            raise ClientError("minting a token needs a client credential (HTTP Basic)")
        try:
            # the secret is hex, the id may hold a colon: split at the last one
            client, _, given = base64.b64decode(raw.strip(), validate=True).decode().rpartition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ClientError("malformed client credential") from None
        if not client or not hmac.compare_digest(given, client_secret(self.secret, client)):
            raise ClientError("wrong client credential")
        if client not in allowed:
            raise ClientError(f"client {client!r} may not mint tokens", status=403)
        return client

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; TokenError otherwise. A token string whose signature
        and issuer were verified before is not decoded again (the same bytes verify the same
        way); its expiry is checked on every call."""
        claims = self._verified.get(token)
        if claims is not None:
            if float(claims.get("exp", 0)) > time.time():
                return claims
            del self._verified[token]
        try:
            # a token without an expiry would be valid forever: exp and iat are required
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        if "nbf" not in claims:  # only what needs no other time check
            if len(self._verified) >= _MAX_VERIFIED:
                self._verified.clear()
            self._verified[token] = claims
        return claims


class TokenCache:
    """Positive validation results by token, kept until expiry (bounded size)."""

    def __init__(self, max_age_s: float, max_entries: int = 10_000) -> None:
        self.max_age_s = max_age_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, token: str) -> dict[str, Any] | None:
        """Cached claims, or None (always None when ``max_age_s`` is 0: no caching)."""
        if self.max_age_s <= 0:
            return None
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[0] < time.time():
            del self._entries[token]
            return None
        return entry[1]

    def put(self, token: str, claims: dict[str, Any]) -> None:
        """Remember a valid token until min(exp, now + max_age_s) (nothing when 0)."""
        if self.max_age_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        until = min(float(claims.get("exp", 0)) or 1e18, time.time() + self.max_age_s)
        self._entries[token] = (until, claims)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


#: OWASP's minimum for PBKDF2-HMAC-SHA256 (Password Storage Cheat Sheet, 2023).
OWASP_PBKDF2_ROUNDS = 600_000
#: Lowers the rounds for load tests (each sign-up and login costs ~0.3 s of CPU at the minimum).
ROUNDS_ENV = "ARCHSIM_PBKDF2_ROUNDS"


def hash_rounds() -> int:
    """The PBKDF2 rounds new hashes get: ``ARCHSIM_PBKDF2_ROUNDS``, else the OWASP minimum."""
    raw = os.environ.get(ROUNDS_ENV, "").strip()
    return max(1, int(raw)) if raw else OWASP_PBKDF2_ROUNDS


def rounds_warning(rounds: int) -> str | None:
    """The warning to show when ``rounds`` is below the OWASP minimum (None when it is not)."""
    if rounds >= OWASP_PBKDF2_ROUNDS:
        return None
    return (
        f"passwords are hashed with {rounds:,} PBKDF2 rounds, below the OWASP minimum of "
        f"{OWASP_PBKDF2_ROUNDS:,} ({ROUNDS_ENV}): for load tests only"
    )


def hash_password(password: str, *, salt: bytes | None = None, rounds: int | None = None) -> str:
    """``pbkdf2_sha256$rounds$salt$hash`` of a password (stdlib PBKDF2; ``rounds`` defaults
    to ``hash_rounds()``). A stored hash keeps its rounds, so it verifies after a change."""
    rounds = hash_rounds() if rounds is None else rounds
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"pbkdf2_sha256${rounds}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches a ``hash_password`` result (constant-time compare)."""
    try:
        _, rounds, salt, digest = stored.split("$")
    except ValueError:
        return False
    again = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(rounds))
    return hmac.compare_digest(again.hex(), digest)
