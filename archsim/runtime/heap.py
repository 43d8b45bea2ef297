"""Keep the start-up heap out of the garbage collector's passes.

A served process holds hundreds of thousands of objects from its imports and start-up
(FastAPI, pydantic, SQLAlchemy, aiohttp, the app, its pools), and the collector walks the ones
in a generation on every pass of it: measured on the seed's stack under load, passes of the
middle generation took 5–20 ms and of the oldest 100–340 ms, each stopping the process's event
loop, more often the busier the process. Requests that arrive during one wait, which shows in the
tail (p95) and grows with the rate while the median does not. Frozen objects are never walked;
what requests allocate afterwards is collected as before (docs/up.md, "Garbage collection").
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_heap"]


def freeze_startup_heap() -> None:
    """Collect what start-up left unreachable, then move every live object to the permanent
    generation (``gc.freeze``) so that later passes only walk objects made after start-up."""
    gc.collect()
    gc.freeze()
