"""The run report: ``results.json`` (schema in ``results``), deltas against the base model (``compare``),
tables (markdown and rich), PNG figures, one self-contained ``report.html`` and ``summary.md``."""

from clearir.report.results import (
    EvalEntry,
    LossCurve,
    ModelEntry,
    PhaseTiming,
    RunResults,
    Significance,
    load_results,
    package_versions,
)
from clearir.report.tables import rich_table
from clearir.report.write import write_report

__all__ = [
    "EvalEntry",
    "LossCurve",
    "ModelEntry",
    "PhaseTiming",
    "RunResults",
    "Significance",
    "load_results",
    "package_versions",
    "rich_table",
    "write_report",
]
