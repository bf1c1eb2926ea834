"""``train(config)``: fine-tune a sentence-transformers model on saved training rows with a clearir loss."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
from sentence_transformers.sentence_transformer.training_args import (
    BatchSamplers,
    SentenceTransformerTrainingArguments,
)
from transformers import TrainerCallback
from transformers.integrations import TensorBoardCallback
from transformers.trainer_callback import PrinterCallback

from clearir.config import resolve_model
from clearir.errors import ClearirError
from clearir.files import write_json
from clearir.losses import column_prompts
from clearir.precision import describe, resolve_precision
from clearir.rows.build import REPORT_FILE
from clearir.training.callbacks import JsonlLogCallback, RichProgressCallback
from clearir.training.collator import ColumnLengthCollator
from clearir.training.config import CONFIG_FILE, TrainConfig
from clearir.training.data import load_rows, select_columns
from clearir.training.freeze import count_parameters, freeze
from clearir.training.losses import build_loss, loss_columns, question_columns
from clearir.training.model_card import write_training_section
from clearir.training.rundir import (
    CHECKPOINTS,
    LOSS_LOG,
    MODEL,
    TENSORBOARD,
    check_out_dir,
    last_checkpoint,
)


@dataclass(frozen=True)
class TrainResult:
    """What a finished run produced: the saved model, its logs and a few numbers."""

    model_dir: Path
    out_dir: Path
    loss_log: Path
    global_step: int
    train_loss: float
    runtime_s: float
    precision: str
    rows: int
    trainable_parameters: int
    total_parameters: int
    resumed_from: Path | None


class ClearirTrainer(SentenceTransformerTrainer):
    """SentenceTransformerTrainer that stops on a non-finite loss or gradient before the optimizer uses it."""

    def training_step(
        self, model: torch.nn.Module, inputs: dict[str, Any], num_items_in_batch: Any = None
    ) -> torch.Tensor:
        loss = super().training_step(model, inputs, num_items_in_batch)
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        finite = torch.isfinite(loss.detach().float()).all()
        if grads:
            finite &= torch.isfinite(torch.nn.utils.get_total_norm(grads))
        flag = finite.to(device=loss.device, dtype=torch.int32)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        if not flag.item():
            step = self.state.global_step + 1
            last = last_checkpoint(Path(self.args.output_dir))
            kept = f"the last good checkpoint is {last}" if last else "no checkpoint was saved before it"
            raise ClearirError(
                f"the loss or its gradient became non-finite (loss {loss.item()}) at step {step}; training "
                f"stopped before applying it and {kept}. Try a lower --lr or --scale, or --precision fp32"
            )
        return loss


def _describe_data(model: SentenceTransformer, data: Path) -> None:
    """Name the training data (and its languages, from the row builder's report) in the model card."""
    name = data.name
    report = data / REPORT_FILE
    if report.is_file():
        options = json.loads(report.read_text(encoding="utf-8")).get("options", {})
        langs = list(options.get("langs", []))
        name = f"{options.get('dataset', name)} {','.join(langs)} ({data.name})"
        model.model_card_data.set_language(["en", *(lang for lang in langs if lang != "en")])
    model.model_card_data.train_datasets = [{"name": name}]


def _load_model(config: TrainConfig) -> tuple[str, SentenceTransformer]:
    name = resolve_model(config.model)
    try:
        return name, SentenceTransformer(name, device="cpu")
    except (OSError, ValueError) as exc:
        raise ClearirError(f"--model {name}: cannot load a sentence-transformers model: {exc}") from exc


def _training_args(
    config: TrainConfig, out: Path, prompts: dict[str, str]
) -> SentenceTransformerTrainingArguments:
    cuda = torch.cuda.is_available()
    # bf16: accelerate runs the model's forward under bf16 autocast (float32 master weights, embeddings
    # returned as float32); the losses compute their scores and softmaxes in float32.
    bf16 = resolve_precision(config.precision, "cuda" if cuda else "cpu") == "bf16"
    return SentenceTransformerTrainingArguments(
        output_dir=str(out / CHECKPOINTS),
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.lr,
        max_steps=config.max_steps,
        warmup_steps=config.warmup_ratio,
        lr_scheduler_type=config.scheduler,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        seed=config.seed,
        bf16=bf16,
        use_cpu=not cuda,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        prompts=prompts or None,
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def train(
    config: TrainConfig, *, callbacks: Sequence[TrainerCallback] = (), progress: bool = False
) -> TrainResult:
    """Train per ``config``; write checkpoints, logs and the final model under ``config.out``.

    ``callbacks`` are added to the trainer's; ``progress`` shows a rich progress bar. Raises ClearirError on
    data or settings, and when the loss becomes non-finite (the checkpoints saved before it are kept).
    """
    out = Path(config.out)
    resume_from = check_out_dir(config, out)
    rows = load_rows(config.data)
    base_model, model = _load_model(config)
    loss = build_loss(config, model)
    columns = loss_columns(loss, rows.column_names, config.num_negatives, source=config.data)
    rows = select_columns(rows, columns, source=config.data, loss=config.loss)
    loss.set_column_names(columns)

    freeze(model, word_embeddings=config.freeze_word_embeddings, layers=config.freeze_layers)
    trainable, total = count_parameters(model)
    prompts = column_prompts(model, columns)
    args = _training_args(config, out, prompts)
    precision = "bf16" if args.bf16 else "fp32"
    if config.batch_size * args.world_size > len(rows):
        raise ClearirError(
            f"--batch-size {config.batch_size} x {args.world_size} process(es) is larger than the "
            f"{len(rows)} rows in {config.data}"
        )
    model.model_card_data.local_files_only = True
    model.model_card_data.generate_widget_examples = False
    model.model_card_data.model_name = f"{Path(base_model).name} fine-tuned with clearir ({config.loss})"
    _describe_data(model, Path(config.data))

    questions = question_columns(columns)
    collator = ColumnLengthCollator(
        preprocess_fn=model.preprocess,
        prompts=prompts,
        column_max_length={
            c: config.query_length if c in questions else config.max_seq_length for c in columns
        },
    )
    tensorboard = TensorBoardCallback()
    tensorboard.logging_dir = str(out / TENSORBOARD)
    log_path = out / LOSS_LOG
    progress_bar = RichProgressCallback() if progress else None
    trainer = ClearirTrainer(
        model=model,
        args=args,
        train_dataset=rows,
        loss=loss,
        data_collator=collator,
        callbacks=[
            JsonlLogCallback(log_path),
            tensorboard,
            *([progress_bar] if progress_bar else []),
            *callbacks,
        ],
    )
    # The logs go to the JSON lines file, TensorBoard and the progress bar, not to stdout.
    trainer.remove_callback(PrinterCallback)
    if trainer.is_world_process_zero():
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / CONFIG_FILE, config.to_dict())
    trainer.accelerator.wait_for_everyone()

    start = time.perf_counter()
    try:
        output = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    finally:
        if progress_bar:
            progress_bar.stop()
    runtime = time.perf_counter() - start

    model_dir = out / MODEL
    if trainer.is_world_process_zero():
        _save_model(
            model,
            model_dir,
            config,
            base_model=base_model,
            rows=len(rows),
            steps=output.global_step,
            trainable=trainable,
            total=total,
            train_loss=output.training_loss,
            precision=describe(config.precision, precision),
        )
    trainer.accelerator.wait_for_everyone()
    return TrainResult(
        model_dir=model_dir,
        out_dir=out,
        loss_log=log_path,
        global_step=output.global_step,
        train_loss=output.training_loss,
        runtime_s=runtime,
        precision=precision,
        rows=len(rows),
        trainable_parameters=trainable,
        total_parameters=total,
        resumed_from=resume_from,
    )


def _save_model(model: SentenceTransformer, model_dir: Path, config: TrainConfig, **facts: Any) -> None:
    """Save the model with its card and configuration to a temporary directory, then rename it into place."""
    tmp = model_dir.with_name(model_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    write_training_section(tmp / "README.md", config, **facts)
    write_json(tmp / CONFIG_FILE, config.to_dict())
    if model_dir.exists():
        shutil.rmtree(model_dir)
    os.replace(tmp, model_dir)
