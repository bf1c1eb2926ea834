"""Every hyperparameter of a clearir training run and its default (the CLEAR recipe where it has one)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

from clearir.errors import ClearirError
from clearir.fields import REQUIRED, setting
from clearir.losses.clear import DEFAULT_ALPHA, DEFAULT_BETA, check_clear_options
from clearir.losses.jsd import DEFAULT_JSD_WEIGHT
from clearir.precision import DEFAULT_PRECISION, PRECISION_HELP, PRECISIONS, Precision
from clearir.rows.mining import DEFAULT_NUM_NEGATIVES

LossName = Literal["clear", "infonce", "infonce-en", "symmetric", "jsd"]
SchedulerName = Literal["cosine", "linear", "constant", "constant_with_warmup"]
JsdQuery = Literal["lang", "en", "both"]
AttentionKernel = Literal["fast", "sdpa"]

LOSS_NAMES: tuple[str, ...] = get_args(LossName)
SCHEDULERS: tuple[str, ...] = get_args(SchedulerName)
JSD_QUERIES: tuple[str, ...] = get_args(JsdQuery)
ATTENTION_KERNELS: tuple[str, ...] = get_args(AttentionKernel)
CONFIG_FILE = "clearir_train.json"
# Settings added after runs were saved, each at the value those runs had: a saved configuration without one
# is read with it (and the experiment layer leaves it out of a run's id at that value).
LEGACY: dict[str, Any] = {"attention_dropout": True, "attention_kernel": "sdpa"}


@dataclass(frozen=True)
class TrainConfig:
    """A training run: data, model, loss and optimisation settings. ``to_dict`` / ``from_dict`` round-trip it.

    Args:
        data: directory of a saved training-rows dataset (``clearir data build-train``).
        out: run directory: ``checkpoints/``, ``tensorboard/``, ``loss_log.jsonl``, ``clearir_train.json``
            and the final sentence-transformers model in ``model/``.
        model: base model (name or path); ``None`` is the built default model.
        loss: ``clear``, ``infonce`` (q_L -> passages), ``infonce-en`` (q_en -> passages), ``symmetric``
            (q_L <-> passages), ``jsd`` (InfoNCE + Jensen-Shannon alignment of q_en and q_L).
        alpha, beta, kl: CLEAR's reverse and KL weights, and whether the KL term is used.
        symmetric_kl, bidirectional_reverse: CLEAR variants beyond the paper (see ``CLEARLoss``).
        jsd_weight, jsd_query: the ``jsd`` loss's JSD weight and InfoNCE query (``lang``, ``en`` or ``both``).
        num_negatives: hard negatives per row used (the first ``n`` of ``neg_1..``).
        scale: inverse temperature of the softmax over cosine similarities.
        mini_batch_size: GradCache mini-batch size (``None``: no caching); keeps activation memory flat.
        gather_across_devices: with several processes, use every process's candidates as negatives.
        batch_size: rows per batch per process.
        lr, max_steps, warmup_ratio, scheduler, weight_decay, max_grad_norm: optimisation (AdamW).
        max_seq_length: token limit for passages; max_query_length for questions (``None``: max_seq_length).
        freeze_word_embeddings: keep the word-embedding matrix fixed (most of a multilingual model's weights).
        freeze_layers: keep the embeddings module and the N lowest encoder layers fixed.
        attention_dropout: keep the model's dropout on the attention probabilities (off: none, the
            hidden-state dropout stays; in PyTorch's attention kernel a step about 30% faster on CPU, in the
            fast one about as fast).
        attention_kernel: ``fast`` (with attention dropout on a CPU, clearir's attention: matrix products in
            the training precision, dropout masks from 16-bit random lanes; see
            :mod:`clearir.training.attention`) or ``sdpa`` (PyTorch's throughout, as every run before it).
        precision: ``auto`` (bf16 where the CPU or CUDA GPU computes it natively, else fp32), ``fp32`` or
            ``bf16`` (see :mod:`clearir.precision`): bf16 autocast in the model, float32 master weights and
            float32 loss maths.
        seed: seeds the data order, dropout and initialisation.
        save_steps, save_total_limit: a checkpoint every ``save_steps`` steps, keeping the last
            ``save_total_limit`` ones.
        logging_steps: log the loss and its components every this many steps.
        resume: continue the run in ``out`` from its last checkpoint.

    The defaults are the recipe ``clearir ablate`` found on a 2-core CPU machine (README, "Ablation"); they
    are also ``clearir run``'s: CLEAR at scale 100 (multilingual-e5's own training temperature, 0.01), which
    keeps English, with the bidirectional reverse term. The paper's CLEAR: ``scale=20,
    bidirectional_reverse=False``; its recipe also ``batch_size=64, max_steps=50, warmup_ratio=0.05,
    max_seq_length=256, num_negatives=5``.
    """

    data: str = setting(REQUIRED, "Training rows: a directory from `clearir data build-train`.")
    out: str = setting(REQUIRED, "Run directory: checkpoints, logs and the model in OUT/model.")
    model: str | None = setting(None, "Base model name or path (default: the built default model).")
    loss: LossName = setting("clear", f"Loss: {', '.join(LOSS_NAMES)}.")
    alpha: float = setting(DEFAULT_ALPHA, "CLEAR: weight of the reverse term.")
    beta: float = setting(DEFAULT_BETA, "CLEAR: weight of the KL term.")
    kl: bool = setting(True, "CLEAR: use the KL term.", flag="--kl/--no-kl")
    symmetric_kl: bool = setting(
        False,
        "CLEAR variant: symmetric KL, ½(KL(rev‖fwd) + KL(fwd‖rev)); --paper-kl: KL(rev‖fwd).",
        flag="--symmetric-kl/--paper-kl",
    )
    bidirectional_reverse: bool = setting(
        True,
        "CLEAR variant: q_L → passages added to the reverse term; --paper-reverse: p+ → queries only.",
        flag="--bidirectional-reverse/--paper-reverse",
    )
    jsd_weight: float = setting(DEFAULT_JSD_WEIGHT, "jsd: weight of the Jensen-Shannon alignment term.")
    jsd_query: JsdQuery = setting("lang", f"jsd: the InfoNCE query, {', '.join(JSD_QUERIES)}.")
    num_negatives: int = setting(DEFAULT_NUM_NEGATIVES, "Hard negatives (and negative queries) per row.")
    scale: float = setting(100.0, "Inverse temperature of the softmax over cosine similarities.")
    # GradCache off: in bf16 at batch 16 the uncached step is 1.6x faster and peaks at 3.3 GB of tensors
    # (0.5 GB with mini-batches of 8), far inside 24 GB (bench/bench_precision.py).
    mini_batch_size: int | None = setting(None, "GradCache mini-batch size (0: no caching).")
    gather_across_devices: bool = setting(
        False, "With several processes, use all processes' candidates as negatives."
    )
    batch_size: int = setting(16, "Rows per batch per process.")
    lr: float = setting(5e-5, "Peak learning rate (AdamW).")
    max_steps: int = setting(8, "Optimizer steps.")
    # No warm-up: its first step runs at learning rate 0, a wasted step in a run this short.
    warmup_ratio: float = setting(0.0, "Share of the steps with a linear warm-up.")
    scheduler: SchedulerName = setting("cosine", f"Learning-rate schedule: {', '.join(SCHEDULERS)}.")
    weight_decay: float = setting(0.0, "AdamW weight decay.")
    max_grad_norm: float = setting(1.0, "Gradient clipping norm (0: none).")
    max_seq_length: int = setting(128, "Training token limit for passages.")
    max_query_length: int | None = setting(32, "Training token limit for questions (0: --max-seq-length).")
    freeze_word_embeddings: bool = setting(
        True,
        "Keep the word-embedding matrix fixed.",
        flag="--freeze-word-embeddings/--train-word-embeddings",
    )
    freeze_layers: int = setting(0, "Keep the embeddings and the N lowest encoder layers fixed.")
    attention_dropout: bool = setting(
        True,
        "Dropout on the attention probabilities (the model's own rate); --no-attention-dropout: none.",
        flag="--attention-dropout/--no-attention-dropout",
    )
    # fast: a default bf16 step 1.29x faster on this CPU, the same dropout rate (bench/bench_precision.py).
    attention_kernel: AttentionKernel = setting(
        "fast", f"Attention kernel in training: {', '.join(ATTENTION_KERNELS)} (fast: for dropout on CPU)."
    )
    precision: Precision = setting(
        DEFAULT_PRECISION, f"Fine-tuning and evaluation precision: {PRECISION_HELP}"
    )
    seed: int = setting(42, "Random seed (rows, data order, dropout).")
    # A checkpoint (model and optimizer state) takes about 1.1 s here, an eighth of a default step: every 16
    # steps it costs under 1% of the time, and a default 8-step run saves once, at its end.
    save_steps: int = setting(16, "Checkpoint every N steps (an interrupted run resumes from it).")
    save_total_limit: int = setting(2, "Keep at most N checkpoints.")
    logging_steps: int = setting(1, "Log the loss and its components every N steps.")
    resume: bool = setting(False, "Continue the run in --out from its last checkpoint.")

    def __post_init__(self) -> None:
        choices = {
            "loss": LOSS_NAMES,
            "scheduler": SCHEDULERS,
            "precision": PRECISIONS,
            "jsd_query": JSD_QUERIES,
            "attention_kernel": ATTENTION_KERNELS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ClearirError(
                    f"--{_flag(name)} {getattr(self, name)!r}: expected one of {', '.join(allowed)}"
                )
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ClearirError(f"--{_flag(field.name)} {value}: expected a finite number")
        positive = [
            "batch_size",
            "max_steps",
            "max_seq_length",
            "save_steps",
            "save_total_limit",
            "logging_steps",
        ]
        optional_positive = ["mini_batch_size", "max_query_length"]
        for name in positive + [n for n in optional_positive if getattr(self, n) is not None]:
            if getattr(self, name) < 1:
                raise ClearirError(f"--{_flag(name)} {getattr(self, name)}: expected a positive integer")
        for name in ("num_negatives", "freeze_layers", "weight_decay", "max_grad_norm", "jsd_weight"):
            if getattr(self, name) < 0:
                raise ClearirError(f"--{_flag(name)} {getattr(self, name)}: expected a value >= 0")
        if not self.lr > 0 or not self.scale > 0:
            raise ClearirError(f"--lr {self.lr} and --scale {self.scale}: expected positive values")
        if not 0 <= self.warmup_ratio < 1:
            raise ClearirError(f"--warmup-ratio {self.warmup_ratio}: expected a value in [0, 1)")
        check_clear_options(self.alpha, self.beta, self.kl, self.symmetric_kl)

    @property
    def loss_label(self) -> str:
        """The loss with its CLEAR variants spelled out, e.g. ``clear (bidirectional reverse)``."""
        return loss_label(self.loss, self)

    @property
    def query_length(self) -> int:
        """The token limit for questions."""
        return self.max_query_length or self.max_seq_length

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(values) - known):
            raise ClearirError(f"unknown training settings {unknown}; expected some of {sorted(known)}")
        return cls(**values)

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """A saved configuration; one saved before a ``LEGACY`` setting existed gets that run's value."""
        try:
            return cls.from_dict({**LEGACY, **json.loads(path.read_text(encoding="utf-8"))})
        except (OSError, json.JSONDecodeError) as exc:
            raise ClearirError(f"{path}: cannot read the training configuration: {exc}") from exc


# CLEAR's variants beyond the paper: each switch (a TrainConfig field, off in the paper) and its report name.
CLEAR_VARIANTS: dict[str, str] = {
    "bidirectional_reverse": "bidirectional reverse",
    "symmetric_kl": "symmetric KL",
}


def loss_label(loss: str, settings: Any) -> str:
    """``loss`` as reports and model cards name it, CLEAR's variants switched on in ``settings`` (an object
    with the ``CLEAR_VARIANTS`` attributes) spelled out."""
    variants = [name for key, name in CLEAR_VARIANTS.items() if getattr(settings, key)]
    return f"{loss} ({', '.join(variants)})" if loss == "clear" and variants else loss


def _flag(name: str) -> str:
    return name.replace("_", "-")
