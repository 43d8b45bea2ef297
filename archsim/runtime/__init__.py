"""What generated services run on, and the processes a local stack needs.

Everything in this package imports only itself (relative imports) and third-party libraries, so
``archsim generate`` can vendor it into a stack as ``archsim_runtime/`` and the stack runs
without archsim installed. Service side: ``service`` (app factory; its steps in ``call_steps``
and ``data_steps``), ``client`` (discovery-aware HTTP), ``registry``, ``broker``, ``cache``,
``db``, ``auth``, ``mail``, ``emulation``, ``metrics``, ``context``. Processes: ``registry``,
``balancer``, ``smtp_sink``, ``sandbox``, ``redis_server``, ``serve``; the launcher
(``launcher``, with ``stack_files``, ``stack_plan`` and ``processes``) starts and stops them all.
"""

from __future__ import annotations

__all__ = ["RUNTIME_VERSION"]

#: Bumped when the wire formats between runtime parts change (state file, manifest, events).
RUNTIME_VERSION = "1"
