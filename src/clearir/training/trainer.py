"""``train(config)``: fine-tune a sentence-transformers model on saved training rows with a clearir loss."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
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
from transformers.trainer_utils import rotate_checkpoints

from clearir.config import resolve_model
from clearir.errors import ClearirError, one_line, warn
from clearir.files import check_dir_target, damage, record_files, staged_dir, write_json
from clearir.losses import column_prompts
from clearir.model.load import load_model
from clearir.precision import describe, resolve_precision
from clearir.rows.build import REPORT_FILE
from clearir.training.backbone import (
    count_parameters,
    freeze,
    no_attention_dropout,
    use_attention_kernel,
)
from clearir.training.callbacks import JsonlLogCallback, RichProgressCallback
from clearir.training.collator import ColumnLengthCollator
from clearir.training.config import CONFIG_FILE, TrainConfig
from clearir.training.data import load_rows, select_columns
from clearir.training.losses import build_loss, loss_columns, question_columns
from clearir.training.model_card import write_training_section
from clearir.training.rundir import (
    CHECKPOINTS,
    LOSS_LOG,
    MODEL,
    RESULT_FILE,
    TENSORBOARD,
    TRAINER_STATE,
    TrainResult,
    check_out_dir,
    last_checkpoint,
)

_STAGING = ".staging"


def _barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


class ClearirTrainer(SentenceTransformerTrainer):
    """SentenceTransformerTrainer that stops on a non-finite loss or gradient before the optimizer uses it,
    and whose checkpoints appear complete or not at all (written to a staging folder with a record of their
    files' sizes and SHA-256, then renamed)."""

    _staging = False

    def _get_output_dir(self, trial: Any) -> str:
        run_dir = super()._get_output_dir(trial)
        return os.path.join(run_dir, _STAGING) if self._staging else run_dir

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        # transformers calls _save on every rank; sentence-transformers' _save assumes the writer rank only
        if self.args.should_save:
            super()._save(output_dir, state_dict)

    def _save_checkpoint(self, model: torch.nn.Module, trial: Any) -> None:
        run_dir = Path(self._get_output_dir(trial))
        name = f"checkpoint-{self.state.global_step}"
        if self.args.should_save:
            shutil.rmtree(run_dir / _STAGING, ignore_errors=True)  # left by a run that died while saving
        _barrier()  # every rank writes its RNG state into the staging folder: none starts before it is clean
        self._staging = True
        try:
            with _writing(f"the checkpoint {run_dir / name}"):
                super()._save_checkpoint(model, trial)
            _barrier()  # ... and the writer renames it only once every rank has written
        except BaseException:
            if self.args.should_save:
                shutil.rmtree(run_dir / _STAGING, ignore_errors=True)
            raise
        finally:
            self._staging = False
        if self.args.should_save:
            staged = run_dir / _STAGING / name
            record_files(staged)
            if (run_dir / name).exists():
                shutil.rmtree(run_dir / name)
            os.replace(staged, run_dir / name)
            shutil.rmtree(run_dir / _STAGING, ignore_errors=True)
            rotate_checkpoints(output_dir=str(run_dir), save_total_limit=self.args.save_total_limit)

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


def _describe_data(model: SentenceTransformer, data: Path) -> str | None:
    """Name the training data (its languages and bridge language, from the row builder's report) in the model
    card; the bridge (pivot) language, None without a report."""
    name, pivot = data.name, None
    report = data / REPORT_FILE
    if report.is_file():
        try:
            options = json.loads(report.read_text(encoding="utf-8")).get("options", {})
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise ClearirError(f"--data {data}: {REPORT_FILE} is not a JSON report ({exc})") from exc
        langs = list(options.get("langs", []))
        pivot = str(options.get("pivot", "en"))
        bridge = "" if pivot == "en" else f", pivot {pivot}"
        name = f"{options.get('dataset', name)} {','.join(langs)}{bridge} ({data.name})"
        model.model_card_data.set_language([pivot, *(lang for lang in langs if lang != pivot)])
    model.model_card_data.train_datasets = [{"name": name}]
    return pivot


def _load_model(config: TrainConfig) -> tuple[str, SentenceTransformer]:
    """The base model's name and the model, on the CPU (the trainer moves it to its device)."""
    return resolve_model(config.model), load_model(config.model, device="cpu")


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
    out = check_dir_target(Path(config.out), "--out")
    resume_from = check_out_dir(config, out)
    if config.resume and (finished := _finished(out)) is not None:
        warn(f"--resume: the run in {out} is finished ({finished.global_step} steps); nothing to do")
        return finished
    rows = load_rows(config.data)
    base_model, model = _load_model(config)
    loss = build_loss(config, model)
    columns = loss_columns(loss, rows.column_names, config.num_negatives, source=config.data)
    rows = select_columns(rows, columns, source=config.data, loss=config.loss)
    loss.set_column_names(columns)

    freeze(model, word_embeddings=config.freeze_word_embeddings, layers=config.freeze_layers)
    if not config.attention_dropout:
        no_attention_dropout(model)
    use_attention_kernel(model, config.attention_kernel)
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
    # The card's widget examples are computed from the dataset anyway, behind a stray tqdm bar; clearir's
    # cards carry no widget, so skip the computation.
    model.model_card_data.set_widget_examples = lambda dataset: None
    model.model_card_data.model_name = f"{Path(base_model).name} fine-tuned with clearir ({config.loss})"
    pivot = _describe_data(model, Path(config.data))

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
    before = _checkpoint_state(resume_from) if resume_from else {"global_step": 0, "log_history": []}
    try:
        if before["global_step"] >= config.max_steps:  # saved at the last step: train no further step
            trainer._load_from_checkpoint(str(resume_from))
            global_step, train_loss = before["global_step"], 0.0
        else:
            output = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
            global_step, train_loss = output.global_step, output.training_loss
    except pickle.UnpicklingError as exc:
        why = re.search(r"Unsupported (global: \S+ \S+|operand \S+)", str(exc))
        detail = why.group(0) if why else one_line(str(exc))[:200]
        raise ClearirError(
            f"--resume: {resume_from} holds a file that torch refuses to load safely ({detail}); remove "
            "that checkpoint to resume from an earlier one"
        ) from exc
    finally:
        if progress_bar:
            progress_bar.stop()
    runtime = time.perf_counter() - start
    # The mean over the whole run: the steps before the checkpoint (from its log) and those run now.
    done_before = before["global_step"]
    train_loss = (
        _loss_sum(before["log_history"], done_before) + train_loss * (global_step - done_before)
    ) / max(global_step, 1)

    result = TrainResult(
        model_dir=out / MODEL,
        out_dir=out,
        loss_log=log_path,
        global_step=global_step,
        train_loss=train_loss,
        runtime_s=runtime,
        precision=precision,
        rows=len(rows),
        trainable_parameters=trainable,
        total_parameters=total,
        resumed_from=resume_from,
    )
    if trainer.is_world_process_zero():
        _save_model(model, config, result, base_model, describe(config.precision, precision), pivot)
        write_json(
            out / RESULT_FILE, {k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}
        )
    trainer.accelerator.wait_for_everyone()
    return result


@contextlib.contextmanager
def _writing(what: str) -> Iterator[None]:
    """Name ``what`` was being written when torch or safetensors fail to write (they raise RuntimeError or
    SafetensorError, not OSError, e.g. on a full disk); nothing incomplete is left in place."""
    try:
        yield
    except (OSError, ClearirError):
        raise
    except Exception as exc:
        raise ClearirError(
            f"cannot write {what}: {one_line(str(exc))[:200]} (disk full?); nothing half-written is kept"
        ) from exc


def _checkpoint_state(checkpoint: Path) -> dict[str, Any]:
    try:
        state = json.loads((checkpoint / TRAINER_STATE).read_text(encoding="utf-8"))
        return {"global_step": int(state["global_step"]), "log_history": list(state["log_history"])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ClearirError(f"--resume: {checkpoint / TRAINER_STATE} is damaged ({exc})") from exc


def _loss_sum(log_history: list[dict[str, Any]], upto: int) -> float:
    """The sum of the per-step training losses up to step ``upto``, from logged means over intervals."""
    total, previous = 0.0, 0
    for entry in sorted(
        (e for e in log_history if "loss" in e and e["step"] <= upto), key=lambda e: e["step"]
    ):
        total += entry["loss"] * (entry["step"] - previous)
        previous = entry["step"]
    return total


def _finished(out: Path) -> TrainResult | None:
    """The result of the finished run in ``out`` (its model whole), else None."""
    try:
        saved = json.loads((out / RESULT_FILE).read_text(encoding="utf-8"))
        result = TrainResult(
            **{k: Path(v) if k in ("model_dir", "out_dir", "loss_log") else v for k, v in saved.items()}
        )
    except (OSError, ValueError, TypeError):
        return None
    if result.resumed_from is not None:
        result = TrainResult(**{**asdict(result), "resumed_from": Path(result.resumed_from)})
    model = out / MODEL
    return result if model.is_dir() and damage(model) is None else None


def _save_model(
    model: SentenceTransformer,
    config: TrainConfig,
    result: TrainResult,
    base_model: str,
    precision: str,
    pivot: str | None,
) -> None:
    """Save the model to ``result.model_dir`` with its card, configuration and file record, to a staging
    folder first, then renamed into place."""
    with _writing(f"the model {result.model_dir}"), staged_dir(result.model_dir) as tmp:
        model.save(str(tmp))
        write_training_section(tmp / "README.md", config, result, base_model, precision, pivot)
        write_json(tmp / CONFIG_FILE, config.to_dict())
        record_files(tmp)
