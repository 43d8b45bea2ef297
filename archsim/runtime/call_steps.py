"""The call steps of a service's runtime: call another component, forward a request, check a
token, mint this service's own token, send mail.

``CallSteps`` is a part of ``service.Runtime`` (which sets the attributes declared here); the
generated handlers call these methods in the order of the model's steps.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response

from .auth import TokenCache, bearer_token, client_header
from .client import DEFAULT_POLICY, CallError, CallPolicy, Reply, ServiceClient, hop_detail
from .context import set_authorization
from .mail import send_mail
from .metrics import Metrics
from .proxy import HopError
from .settings import Settings
from .traced import mail_attributes
from .tracing import Tracer

__all__ = ["CallSteps"]


class CallSteps:
    """The steps that reach another component over the network (HTTP or SMTP)."""

    component: str
    settings: Settings
    tracer: Tracer | None
    log: logging.Logger
    metrics: Metrics
    tokens: TokenCache
    client: ServiceClient | None

    async def call(
        self,
        target: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        policy: CallPolicy = DEFAULT_POLICY,
    ) -> Reply:
        """A call step: the reply (2xx-4xx), or HTTPException 502/503/504 when it failed."""
        assert self.client is not None, "runtime not started"
        try:
            reply = await self.client.call(
                target, method, path, json_body=json, data=data, headers=headers, policy=policy
            )
        except CallError as exc:
            self.metrics.call(target, "failed")
            self.call_failed(target, method, path, exc.status, exc.detail)
            raise HopError(exc.status, exc.detail) from None
        self.metrics.call(target, "ok" if reply.ok else "client_error")
        return reply

    def call_failed(self, target: str, method: str, path: str, status: int, cause: str) -> None:
        """One JSON log line per failed outbound call (the trace id comes with the context)."""
        fields: dict[str, object] = {
            "event": "call_failed",
            "target": target,
            "method": method,
            "path": path,
        }
        fields |= {"status": status, "cause": cause}
        self.log.warning(f"call to {target} failed: {cause}", extra={"fields": fields})

    async def call_json(self, target: str, method: str, path: str, **kw: Any) -> Any:
        """A call whose reply must be 2xx: its JSON. A 404 means the request named something
        that does not exist (422 upstream); other 4xx are our bug (502)."""
        reply = await self.call(target, method, path, **kw)
        if reply.ok:
            return reply.json()
        cause = hop_detail(target, reply.status, reply.body)
        self.call_failed(target, method, path, reply.status, cause)
        if reply.status == 404:
            raise HTTPException(422, f"{target}: {path} not found")
        raise HopError(502, f"{cause} (to {method} {path})")

    async def forward(
        self, request: Request, target: str, path: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> Response:
        """A proxy step: send the request on to ``target`` unchanged; answer what it answers."""
        body = await request.body()
        headers = {"content-type": request.headers.get("content-type", "application/json")}
        authorization = request.headers.get("authorization")
        if authorization:
            headers["authorization"] = authorization
        if request.url.query:
            path = f"{path}?{request.url.query}"
        reply = await self.call(
            target, request.method, path, data=body or None, headers=headers, policy=policy
        )
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    async def authorize(
        self, request: Request, auth: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> dict[str, Any]:
        """A validate-token step: the caller's claims, checked by ``auth`` (cached until the
        token expires); 401 without a valid bearer token."""
        return await self.authorize_header(request.headers.get("authorization"), auth, policy)

    async def authorize_header(
        self, authorization: str | None, auth: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> dict[str, Any]:
        """``authorize`` given the raw ``Authorization`` header."""
        token = bearer_token(authorization)
        if token is None:
            raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
        claims = self.tokens.get(token)
        if claims is not None:
            return claims
        reply = await self.call(
            auth, "POST", "/tokens/validate", json={"token": token}, policy=policy
        )
        if not reply.ok:
            raise HTTPException(401, "invalid or expired token", {"WWW-Authenticate": "Bearer"})
        claims = reply.json()["claims"]
        self.tokens.put(token, claims)
        return claims

    async def service_token(self, auth: str, policy: CallPolicy = DEFAULT_POLICY) -> Any:
        """A call-issue_token step of an event handler (rule consume.token): a token for this
        service itself (subject ``service:<id>``), minted with its client credential; the
        handler's later calls carry it."""
        reply = await self.call_json(
            auth, "POST", "/tokens",
            json={"subject": f"service:{self.component}", "claims": {"service": self.component}},
            headers=self.client_headers(), policy=policy,
        )  # fmt: skip
        set_authorization(f"Bearer {reply['access_token']}")
        return reply

    def client_headers(self) -> dict[str, str]:
        """Headers that prove this service to the auth service when it mints a token (its
        client credential, ``ARCHSIM_CLIENT_SECRET``, given by the launcher)."""
        secret = self.settings.env.get("ARCHSIM_CLIENT_SECRET")
        return {"authorization": client_header(self.component, secret)} if secret else {}

    async def send_mail(
        self, target: str, subject: str, body: str, to: str | None = None, key: str | None = None
    ) -> None:
        """A sends-via step: one message over SMTP to ``target`` (the stack's sink locally).
        ``key`` (a consumer's event id) makes the Message-ID, so sending it again after a
        redelivery is the same message, which the receiver keeps once."""
        url = self.settings.required_url(target, "smtp")
        sender = f"{self.component}@{self.settings.stack}.local"
        headers = {"Message-ID": f"<{key}.{self.component}@{self.settings.stack}.local>"}
        span: Any = contextlib.nullcontext()
        if self.tracer is not None:
            span = self.tracer.span("SMTP send", 3, mail_attributes(target))
        try:
            async with span:
                await send_mail(
                    url,
                    sender=sender,
                    to=to or f"customer@{self.settings.stack}.local",
                    subject=subject,
                    body=body,
                    headers=headers if key else None,
                )
        except OSError as exc:
            self.metrics.call(target, "failed")
            self.call_failed(target, "SMTP", "MAIL", 502, f"{target}: {exc}")
            raise HopError(502, f"{target} did not take the mail: {exc}") from None
        self.metrics.call(target, "ok")
