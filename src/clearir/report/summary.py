"""``summary.md``: the headline, English retention, the full table, fine-tune vs. SHIFT vs. both (when SHIFT
was evaluated), timing, configuration and versions."""

from __future__ import annotations

import json
import re

from clearir.precision import describe
from clearir.report.compare import comparison_rows, english_retention, headlines
from clearir.report.results import RunResults
from clearir.report.tables import SHIFT_NOTE, markdown_table, md_escape, shift_markdown


def summary_markdown(results: RunResults) -> str:
    """The run's summary as markdown; text from data is escaped (``md_escape``)."""
    lines = [
        f"# clearir run: {md_escape(results.name)}",
        "",
        f"Created {md_escape(results.created)}; total time {results.total_seconds / 60:.1f} min; "
        f"base model {md_escape(results.base.path)}; "
        f"losses: {md_escape(', '.join(results.losses) or 'none')}; "
        f"trained on: {md_escape(', '.join(results.train_langs) or 'none')}{_precision(results)}.",
        "",
        "## Headline",
        "",
    ]
    heads = headlines(comparison_rows(results))
    lines += [f"- {md_escape(h.sentence())}" for h in heads] or [
        "- No fine-tuned model was compared with the base model."
    ]
    lines += ["", "## English retention", ""]
    lines += [f"- {md_escape(r.sentence())}" for r in english_retention(results)] or [
        "- en→en was not evaluated."
    ]
    lines += [
        "",
        "## Results",
        "",
        "Δ = model − base; * marks p < 0.05 (paired randomization test against the base model). "
        "Lower is better for Max@R and English inclination.",
        "",
        markdown_table(results),
    ]
    shift = shift_markdown(results)
    if shift:
        lines += ["## Fine-tune, SHIFT, or both", "", SHIFT_NOTE, "", shift]
    lines += [
        "## Timing",
        "",
        "| phase | seconds | reused | detail |",
        "|---|---:|---|---|",
    ]
    lines += [
        f"| {md_escape(t.phase)} | {t.seconds:.1f} | {'yes' if t.reused else ''} | {md_escape(t.detail)} |"
        for t in results.timings
    ]
    config = json.dumps(results.config, indent=2, ensure_ascii=False)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", config)), default=0))
    lines += ["", "## Configuration", "", f"{fence}json", config, fence, "", "## Versions", ""]
    lines += [f"- {md_escape(name)}: {md_escape(version)}" for name, version in results.versions.items()]
    return "\n".join(lines) + "\n"


def _precision(results: RunResults) -> str:
    """``; precision bf16 (auto)`` when the run recorded its precision."""
    asked, used = results.config.get("precision"), results.config.get("precision_resolved")
    if not used:
        return ""
    return f"; precision {md_escape(describe(str(asked or used), str(used)))}"
