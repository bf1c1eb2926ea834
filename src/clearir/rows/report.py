"""What a row build did: per-language counts, drops by reason, each row's provenance, options and timings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table

TOO_FEW_NEGATIVES = "too_few_negatives"
DROP_REASONS = {
    TOO_FEW_NEGATIVES: "fewer than n paragraphs with a question in the language inside the rank window",
}


@dataclass(frozen=True)
class RowMeta:
    """Provenance of one row (same order as the dataset): ids of its question, positive and negatives."""

    lang: str
    question_id: str
    positive_id: str
    negative_ids: list[str]
    negative_ranks: list[int]
    negative_query_ids: list[str]


@dataclass
class LanguageStats:
    """Counts for one target language.

    ``questions``: questions of the language with a parallel in the pivot language (English by default);
    ``heldout``: those left out because their article is held out for evaluation (XQuAD);
    ``negative_paragraphs``: pivot paragraphs of the pool holding at least one question of the language (the
    paragraphs negatives may come from); ``unpaired``: questions of the language without a pivot parallel,
    left out (MLQA-R with a pivot other than English); ``built``: rows mined; ``dropped``: rows not built, by
    reason; ``capped``: built rows left out by ``max_rows``; ``rows``: kept.
    """

    lang: str
    questions: int
    heldout: int
    negative_paragraphs: int
    unpaired: int = 0
    built: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    capped: int = 0
    rows: int = 0


@dataclass
class BuildReport:
    """Everything about one build; ``to_dict`` is the ``build_report.json`` sidecar."""

    options: dict[str, Any]
    pool: int
    window_used: tuple[int, int]
    languages: list[LanguageStats]
    rows: list[RowMeta]
    timings: dict[str, float]
    split: dict[str, Any] | None = None

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def dropped(self) -> dict[str, int]:
        """Dropped rows by reason, over all languages."""
        total: dict[str, int] = {}
        for stats in self.languages:
            for reason, count in stats.dropped.items():
                total[reason] = total.get(reason, 0) + count
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "options": self.options,
            "num_rows": self.num_rows,
            "negatives_per_row": self.options["num_negatives"],
            "dropped": self.dropped(),
            "drop_reasons": {reason: DROP_REASONS[reason] for reason in self.dropped()},
            "pool": self.pool,
            "window_used": list(self.window_used),
            "split": self.split,
            "languages": [asdict(stats) for stats in self.languages],
            "timings": self.timings,
            "rows": [asdict(row) for row in self.rows],
        }

    def table(self) -> Table:
        """A rich table: one line per language (and a total line for several), options in the title."""
        o = self.options
        lo, hi = self.window_used
        table = Table(
            title=f"{o['dataset']} {','.join(o['langs'])}, pivot {o['pivot']}: {self.num_rows} rows, "
            f"{o['num_negatives']} negatives each ({o['miner']}, ranks {lo}:{hi} of {self.pool} paragraphs, "
            f"seed {o['seed']})",
            caption=", ".join(f"{name} {seconds:.1f}" for name, seconds in self.timings.items()),
        )
        unpaired = any(s.unpaired for s in self.languages)  # a column only when a pivot left some out
        drops = [f"dropped: {reason.replace('_', ' ')}" for reason in DROP_REASONS]
        table.add_column("lang")
        headers = ["questions", *(["no pivot"] if unpaired else []), "held out", "neg. paragraphs"]
        for header in [*headers, *drops, "capped", "rows"]:
            table.add_column(header, justify="right")
        for s in self.languages:
            counts = [
                s.questions,
                *([s.unpaired] if unpaired else []),
                s.heldout,
                s.negative_paragraphs,
                *(s.dropped.get(r, 0) for r in DROP_REASONS),
            ]
            table.add_row(s.lang, *map(str, [*counts, s.capped, s.rows]))
        if len(self.languages) > 1:
            dropped = self.dropped()
            counts = [
                sum(s.questions for s in self.languages),
                *([sum(s.unpaired for s in self.languages)] if unpaired else []),
                sum(s.heldout for s in self.languages),
            ]
            table.add_row(
                "all",
                *map(str, counts),
                "",
                *(str(dropped.get(r, 0)) for r in DROP_REASONS),
                str(sum(s.capped for s in self.languages)),
                str(self.num_rows),
            )
        return table
