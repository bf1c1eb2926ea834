"""A data collator that truncates each column to its own maximum length (short questions, long passages)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sentence_transformers.sentence_transformer.data_collator import SentenceTransformerDataCollator


@dataclass
class ColumnLengthCollator(SentenceTransformerDataCollator):
    """Tokenizes column ``c`` with ``max_length = column_max_length[c]`` (the model's own limit if absent).

    The base collator resolves a column's task and then its maximum length, one column at a time; this
    subclass remembers the column in the first call and answers the second from ``column_max_length``.
    """

    column_max_length: dict[str, int] = field(default_factory=dict)
    _column: str | None = field(default=None, init=False, repr=False)

    def _get_task_for_column(self, column_name: str, column_position: int, router_mapping: dict[str, str]):
        self._column = column_name
        return super()._get_task_for_column(column_name, column_position, router_mapping)

    def _get_max_length_for_task(self, task: str | None) -> int | None:
        if self._column in self.column_max_length:
            return self.column_max_length[self._column]
        return super()._get_max_length_for_task(task)
