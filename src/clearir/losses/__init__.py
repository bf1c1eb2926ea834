"""CLEAR and its baselines as sentence-transformers losses: exact, cached (GradCache) and across devices.

Every loss takes the SentenceTransformer first, finds its columns by name (:mod:`clearir.losses.columns`),
and returns from ``forward`` a dict of weighted components that sum to the loss, which
sentence-transformers' trainer sums and logs entry by entry. ``compute_loss_from_embeddings`` computes the
same dict from a :class:`RowEmbeddings`, without a model.

Prompts: sentence-transformers applies prompts in the data collator (training argument ``prompts``, per
column), before tokenising, so a loss never sees text. :func:`column_prompts` builds that argument from the
model's query and passage prompts (:func:`query_prompt`, :func:`passage_prompt`).
"""

from clearir.losses.base import RowEmbeddings, RowLoss
from clearir.losses.clear import CLEARLoss
from clearir.losses.columns import Columns, column_prompts, parse_columns, passage_prompt, query_prompt
from clearir.losses.infonce import InfoNCELoss
from clearir.losses.jsd import JSDAlignmentLoss
from clearir.losses.symmetric import SymmetricInfoNCELoss

__all__ = [
    "CLEARLoss",
    "Columns",
    "InfoNCELoss",
    "JSDAlignmentLoss",
    "RowEmbeddings",
    "RowLoss",
    "SymmetricInfoNCELoss",
    "column_prompts",
    "parse_columns",
    "passage_prompt",
    "query_prompt",
]
