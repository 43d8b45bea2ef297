"""A live dashboard of a running generated stack: the architecture's diagram annotated with
measured throughput, error ratio and p95 per component and link, the model's prediction at the
measured arrival rate beside each, and a load test's progress.

``measure`` (polls → rates), ``predict`` (the model at that rate), ``join`` (verdicts),
``readings`` (typed records, JSON), ``server`` (aiohttp page and JSON), ``source`` (which model
a stack came from).
"""

from archsim.dashboard.source import find_model

__all__ = ["find_model"]
