"""``clearir shift``: fit SHIFT language vectors for a model from parallel texts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from clearir.cli import options
from clearir.cli.options import embedding_cache, generated, setting_options, shared, split_list
from clearir.config import resolve_model
from clearir.errors import ClearirError
from clearir.evaluation.settings import DEFAULT_MAX_PAIRS
from clearir.fields import setting


@dataclass(frozen=True)
class ShiftFitOptions:
    """``clearir shift fit``'s options, in the order ``--help`` lists them."""

    model: str | None = shared("model")
    langs: str | None = setting(
        None, "Comma-separated languages besides the pivot (default: all the texts have)."
    )
    dataset: str = setting(
        "mlqa", "Registry parallel paragraphs: mlqa (disjoint from XQuAD) or xquad (disjoint from MLQA-R)."
    )
    parallel: str | None = setting(
        None, 'Your own parallel texts instead: JSON lines {"en": ..., "de": ...}.'
    )
    rows: str | None = setting(
        None, "Training rows instead (clearir data build-train): L and English questions."
    )
    max_pairs: int = setting(DEFAULT_MAX_PAIRS, "Pairs per language, a fixed sample (0: all).")
    out: str | None = setting(
        None, "Vectors file (default: beside the model directory, <model>.shift.safetensors)."
    )
    data_dir: str | None = shared("data_dir")
    batch_size: int = shared("batch_size")
    max_seq_length: int | None = shared("max_seq_length")
    cache: bool = shared("cache")
    precision: str = shared("precision")


def fit(**values: Any) -> None:
    """Estimate v_L = mean(L texts) - mean(their English translations), encoded with the documents' prompt,
    and save them with the model's fingerprint and the texts' provenance (use with `clearir eval --shift`)."""
    o = ShiftFitOptions(**values)
    from clearir.evaluation.encoder import TextEncoder, model_fingerprint
    from clearir.model.load import load_model, model_source, set_max_seq_length
    from clearir.shift import file_texts, fit_vectors, registry_texts, rows_texts
    from clearir.shift.vectors import SUFFIX

    if o.parallel is not None and o.rows is not None:
        raise ClearirError("--parallel and --rows: give one source of parallel texts, not both")
    if o.max_pairs < 0:
        raise ClearirError(f"--max-pairs must be >= 0, got {o.max_pairs}")
    source = model_source(o.model)
    out = o.out
    if out is None:
        if source is None:
            raise ClearirError(f"--model {resolve_model(o.model)} is not a local directory; pass --out")
        out = str(source.with_name(source.name + SUFFIX))
    wanted = split_list(o.langs, "--langs")
    cap = o.max_pairs or None
    if o.parallel is not None:
        texts = file_texts(o.parallel, wanted, cap)
    elif o.rows is not None:
        texts = rows_texts(o.rows, wanted, cap)
    else:
        from clearir.data.registry import dataset_spec

        spec = dataset_spec(o.dataset)
        texts = registry_texts(
            o.dataset, wanted or [lang for lang in spec.languages if lang != "en"], o.data_dir, cap
        )
    loaded = load_model(o.model)
    fingerprint = model_fingerprint(loaded, source)
    if o.max_seq_length is not None:
        set_max_seq_length(loaded, o.max_seq_length)
    encoder = TextEncoder(
        loaded, o.batch_size, embedding_cache(o.cache), source=source, precision=o.precision
    )
    vectors = fit_vectors(encoder, texts, fingerprint)
    path = vectors.save(out)
    console = Console(stderr=True)
    for lang in vectors.langs:
        where = vectors.provenance[lang]
        norm = float((vectors.vectors[lang] ** 2).sum() ** 0.5)
        console.print(f"{lang}: {where['pairs']} pairs from {where['source']}; |v| = {norm:.4f}")
    console.print(f"vectors: {Path(path)}")


app = options.group(
    "SHIFT: a training-free correction of the language offset of document embeddings at indexing."
)
app.command("fit")(generated(fit, setting_options(ShiftFitOptions)))
