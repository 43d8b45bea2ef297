"""Architecture analysis: design smells with fixes, blast radius, SPOFs and critical paths.

Pure: ``analyze(arch, config) -> AnalysisReport``; rules live one module per concern
(availability, coupling, data, interactions) and are documented in docs/analyze.md.
"""

from archsim.analysis.availability import Blast, BlastRadius
from archsim.analysis.context import AnalysisConfig
from archsim.analysis.critical_path import CriticalPath, PathHop
from archsim.analysis.findings import Finding, Rule, parse_levels, parse_rule_list
from archsim.analysis.report import RULES, SCHEMA, AnalysisReport, analyze, rule

__all__ = [
    "RULES",
    "SCHEMA",
    "AnalysisConfig",
    "AnalysisReport",
    "Blast",
    "BlastRadius",
    "CriticalPath",
    "Finding",
    "PathHop",
    "Rule",
    "analyze",
    "parse_levels",
    "parse_rule_list",
    "rule",
]
