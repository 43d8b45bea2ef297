"""Load testing: a Locust harness for generated stacks, measured results, thresholds, and the
comparison and calibration of the simulator against measurements.

The locustfile itself is rendered by the code generator (``archsim.codegen.locustfile``).
"""

from archsim.loadtest.calibrate import Calibration, calibrate
from archsim.loadtest.compare import compare
from archsim.loadtest.comparison import Comparison
from archsim.loadtest.runner import LoadSpec, run_locust
from archsim.loadtest.thresholds import evaluate, parse_threshold

__all__ = [
    "Calibration",
    "Comparison",
    "LoadSpec",
    "calibrate",
    "compare",
    "evaluate",
    "parse_threshold",
    "run_locust",
]
