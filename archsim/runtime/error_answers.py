"""What a service answers when a step raises: a failed hop (its own status), a database
constraint (409), a number out of range (422), a database that could not do the work (503).

``add_error_answers`` installs them on a service's FastAPI app (``Runtime.create_app``).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from .proxy import HopError

__all__ = ["add_error_answers"]


def add_error_answers(app: FastAPI) -> None:
    """Answer these exceptions as JSON with their status instead of a 500."""
    app.add_exception_handler(IntegrityError, _conflict)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(HopError, _hop_error)
    app.add_exception_handler(OperationalError, _unavailable)


async def _hop_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HopError)
    return JSONResponse(
        {"detail": exc.detail, "hop": True}, status_code=exc.status_code, headers=exc.headers
    )


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """A number the database cannot hold (a path id past 64 bits): the client's input (422)."""
    return JSONResponse(
        {"detail": "a number in the request is out of range (integers must fit in 64 bits)"},
        status_code=422,
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database could not do the work in time (locked, busy, timed out): nothing of it was
    committed, and trying again later may succeed (503)."""
    cause = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
    return JSONResponse({"detail": f"database unavailable: {cause}"}, status_code=503)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    """A unique or foreign-key constraint said no: the client's data conflicts (409)."""
    return JSONResponse({"detail": "conflicts with existing data"}, status_code=409)
