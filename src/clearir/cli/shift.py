"""``clearir shift``: fit SHIFT language vectors for a model from parallel texts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from clearir.cli import options
from clearir.cli.options import split_list
from clearir.config import home_dir, resolve_model
from clearir.errors import ClearirError
from clearir.shift.parallel import DEFAULT_MAX_PAIRS

app = options.group(
    "SHIFT: a training-free correction of the language offset of document embeddings at indexing."
)


@app.command("fit")
def fit(
    model: str = options.MODEL,
    langs: str = typer.Option(
        None, "--langs", help="Comma-separated languages besides the pivot (default: all the texts have)."
    ),
    dataset: str = typer.Option(
        "mlqa",
        "--dataset",
        help="Registry parallel paragraphs: mlqa (disjoint from XQuAD) or xquad (disjoint from MLQA-R).",
    ),
    parallel: str = typer.Option(
        None, "--parallel", help='Your own parallel texts instead: JSON lines {"en": ..., "de": ...}.'
    ),
    rows: str = typer.Option(
        None, "--rows", help="Training rows instead (clearir data build-train): L and English questions."
    ),
    max_pairs: int = typer.Option(
        DEFAULT_MAX_PAIRS, "--max-pairs", help="Pairs per language, a fixed sample (0: all)."
    ),
    out: str = typer.Option(
        None, "--out", help="Vectors file (default: beside the model directory, <model>.shift.safetensors)."
    ),
    data_dir: str = options.DATA_DIR,
    batch_size: int = options.BATCH_SIZE,
    max_seq_length: int = options.MAX_SEQ_LENGTH,
    cache: bool = options.CACHE,
    precision: str = options.PRECISION,
) -> None:
    """Estimate v_L = mean(L texts) - mean(their English translations), encoded with the documents' prompt,
    and save them with the model's fingerprint and the texts' provenance (use with `clearir eval --shift`)."""
    from clearir.evaluation.encoder import TextEncoder, model_fingerprint
    from clearir.model.load import load_model, model_source, set_max_seq_length
    from clearir.shift import file_texts, fit_vectors, registry_texts, rows_texts
    from clearir.shift.vectors import SUFFIX

    if parallel is not None and rows is not None:
        raise ClearirError("--parallel and --rows: give one source of parallel texts, not both")
    if max_pairs < 0:
        raise ClearirError(f"--max-pairs must be >= 0, got {max_pairs}")
    source = model_source(model)
    if out is None:
        if source is None:
            raise ClearirError(f"--model {resolve_model(model)} is not a local directory; pass --out")
        out = str(source.with_name(source.name + SUFFIX))
    wanted = split_list(langs, "--langs")
    cap = max_pairs or None
    if parallel is not None:
        texts = file_texts(parallel, wanted, cap)
    elif rows is not None:
        texts = rows_texts(rows, wanted, cap)
    else:
        from clearir.data.registry import dataset_spec

        spec = dataset_spec(dataset)
        texts = registry_texts(
            dataset, wanted or [lang for lang in spec.languages if lang != "en"], data_dir, cap
        )
    loaded = load_model(model)
    fingerprint = model_fingerprint(loaded, source)
    if max_seq_length is not None:
        set_max_seq_length(loaded, max_seq_length)
    encoder = TextEncoder(
        loaded, batch_size, home_dir() / "embeddings" if cache else None, source=source, precision=precision
    )
    vectors = fit_vectors(encoder, texts, fingerprint)
    path = vectors.save(out)
    console = Console(stderr=True)
    for lang in vectors.langs:
        where = vectors.provenance[lang]
        norm = float((vectors.vectors[lang] ** 2).sum() ** 0.5)
        console.print(f"{lang}: {where['pairs']} pairs from {where['source']}; |v| = {norm:.4f}")
    console.print(f"vectors: {Path(path)}")
