"""``train(config)`` on a tiny model: weights, saved model and card, logs, checkpoints, resume, freezing."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from sentence_transformers import SentenceTransformer
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from transformers import TrainerCallback

from clearir.precision import describe, resolve_precision
from clearir.training.collator import ColumnLengthCollator
from clearir.training.config import CONFIG_FILE, TrainConfig
from clearir.training.trainer import CHECKPOINTS, TrainResult, last_checkpoint, train
from tests.train_data import tiny_model_dir, weights, write_rows

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(tiny model dir, 16 saved CLEAR rows with 2 negatives)."""
    root = tmp_path_factory.mktemp("train-inputs")
    return tiny_model_dir(root / "model"), write_rows(root / "rows")


def config(inputs: tuple[Path, Path], out: Path, **changes) -> TrainConfig:
    model, rows = inputs
    settings = {
        "data": str(rows),
        "out": str(out),
        "model": str(model),
        "num_negatives": 2,
        "batch_size": 4,
        "lr": 1e-3,
        "max_steps": 3,
        "save_steps": 2,
        "max_seq_length": 32,
        "max_query_length": 16,
    }
    return TrainConfig(**(settings | changes))


@pytest.fixture(scope="module")
def clear_run(
    inputs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[TrainConfig, TrainResult]:
    cfg = config(inputs, tmp_path_factory.mktemp("clear-run") / "run", mini_batch_size=3)
    return cfg, train(cfg)


def test_training_changes_weights_and_saves_a_loadable_model(clear_run, inputs) -> None:
    cfg, result = clear_run
    before, after = weights(inputs[0]), weights(result.model_dir)
    assert result.model_dir == Path(cfg.out) / "model" and result.global_step == 3
    assert before.keys() == after.keys()
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    assert "encoder.layer.1.output.dense.weight" in changed
    # Frozen by default: the word-embedding matrix is untouched and held no gradient.
    assert torch.equal(before[WORD_EMBEDDINGS], after[WORD_EMBEDDINGS])
    assert result.trainable_parameters == result.total_parameters - before[WORD_EMBEDDINGS].numel()

    loaded = SentenceTransformer(str(result.model_dir), device="cpu")
    base = SentenceTransformer(str(inputs[0]), device="cpu")
    texts = ["query: where is the river", "passage: the river is in the city"]
    assert not torch.allclose(
        loaded.encode(texts, convert_to_tensor=True), base.encode(texts, convert_to_tensor=True)
    )
    assert loaded.prompts == base.prompts  # the e5-style prompts survive


def test_model_card_and_config_record_every_hyperparameter(clear_run, inputs) -> None:
    cfg, result = clear_run
    card = (result.model_dir / "README.md").read_text(encoding="utf-8")
    for name, value in cfg.to_dict().items():
        assert f"| `{name}` | `{value!r}` |" in card
    assert f"Base model: `{inputs[0]}`" in card and f"Training data: `{inputs[1]}` (16 rows)" in card
    assert f"Loss: `{cfg.loss_label}`" in card
    assert result.precision == resolve_precision(cfg.precision)
    assert f"Precision: {describe(cfg.precision, result.precision)}" in card
    assert "CLEARLoss" in card and "lee-etal-2026-clear" in card and "gao2021scaling" in card
    assert "`prompts`: {'en_question': 'query: '" in card
    for where in (result.model_dir, result.out_dir):
        assert TrainConfig.load(where / CONFIG_FILE) == cfg


def test_every_clear_component_is_logged_per_step(clear_run) -> None:
    _, result = clear_run
    records = [json.loads(line) for line in result.loss_log.read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3]
    for r in steps:
        assert all(math.isfinite(r[k]) for k in ("forward", "reverse", "kl"))
        assert r["loss"] == pytest.approx(
            r["forward"] + r["reverse"] + r["kl"], abs=2e-4
        )  # components: 4 decimals
    events = EventAccumulator(str(result.out_dir / "tensorboard")).Reload()
    assert {"train/loss", "train/forward", "train/reverse", "train/kl"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("train/kl")] == [1, 2, 3]


def test_checkpoints_every_save_steps_within_the_limit(clear_run) -> None:
    _, result = clear_run
    names = sorted(p.name for p in (result.out_dir / CHECKPOINTS).iterdir())
    assert names == ["checkpoint-2", "checkpoint-3"]
    assert last_checkpoint(result.out_dir / CHECKPOINTS) == result.out_dir / CHECKPOINTS / "checkpoint-3"


class _Interrupt(TrainerCallback):
    """Stops a run right after its checkpoint at ``step`` is written, like a kill between steps."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_save(self, args, state, control, **kwargs) -> None:
        if state.global_step == self.step:
            raise KeyboardInterrupt(f"interrupted after step {self.step}")


def test_resume_reaches_the_weights_of_an_uninterrupted_run(inputs, tmp_path: Path) -> None:
    # 16 rows in batches of 4: the resumed run skips into the middle of epoch 1 and goes on into epoch 2;
    # dropout (0.1) and the data order must both pick up exactly where the checkpoint left them.
    whole = train(config(inputs, tmp_path / "whole", max_steps=6))
    cut = config(inputs, tmp_path / "cut", max_steps=6)
    with pytest.raises(KeyboardInterrupt):
        train(cut, callbacks=[_Interrupt(2)])
    assert not (tmp_path / "cut" / "model").exists()
    resumed = train(replace(cut, resume=True))
    assert resumed.resumed_from == tmp_path / "cut" / CHECKPOINTS / "checkpoint-2"
    assert resumed.global_step == 6
    a, b = weights(whole.model_dir), weights(resumed.model_dir)
    assert not torch.equal(
        a["encoder.layer.0.output.dense.weight"], weights(inputs[0])["encoder.layer.0.output.dense.weight"]
    )
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=1e-6, msg=name)
    logged = [json.loads(line) for line in resumed.loss_log.read_text().splitlines()]
    reference = [json.loads(line) for line in whole.loss_log.read_text().splitlines()]
    losses = [(r["step"], r["loss"]) for r in logged if "loss" in r]
    assert [s for s, _ in losses] == [1, 2, 3, 4, 5, 6]  # no step twice after the resume
    assert [loss for _, loss in losses] == pytest.approx(
        [r["loss"] for r in reference if "loss" in r], abs=1e-6
    )


def test_freeze_layers_keeps_the_embeddings_and_lowest_layers(inputs, tmp_path: Path) -> None:
    result = train(
        config(
            inputs,
            tmp_path / "run",
            max_steps=1,
            warmup_ratio=0.0,
            freeze_word_embeddings=False,
            freeze_layers=1,
        )
    )
    before, after = weights(inputs[0]), weights(result.model_dir)
    frozen = [n for n in before if n.startswith(("embeddings.", "encoder.layer.0."))]
    trained = [n for n in before if n.startswith("encoder.layer.1.") and n.endswith("weight")]
    assert frozen and trained
    assert all(torch.equal(before[n], after[n]) for n in frozen)
    assert all(not torch.equal(before[n], after[n]) for n in trained)


def _losses(result: TrainResult) -> list[float]:
    return [json.loads(line)["loss"] for line in result.loss_log.read_text().splitlines() if '"loss"' in line]


def test_no_attention_dropout_trains_as_a_model_built_without_it(inputs, tmp_path: Path) -> None:
    """--no-attention-dropout equals a model whose attention dropout is 0 (hidden dropout kept), differs from
    the default, and leaves the saved model's configuration as it was."""
    model, rows = inputs
    without = tmp_path / "model-without"
    shutil.copytree(model, without)
    model_config = json.loads((model / "config.json").read_text())
    assert model_config["attention_probs_dropout_prob"] == model_config["hidden_dropout_prob"] == 0.1
    (without / "config.json").write_text(json.dumps(model_config | {"attention_probs_dropout_prob": 0.0}))

    switched = train(config(inputs, tmp_path / "switched", attention_dropout=False))
    built = train(config((without, rows), tmp_path / "built"))
    default = train(config(inputs, tmp_path / "default"))
    assert _losses(switched) == _losses(built)
    assert _losses(switched) != _losses(default)
    assert json.loads((switched.model_dir / "config.json").read_text())["attention_probs_dropout_prob"] == 0.1


def test_the_attention_kernel_changes_only_the_dropout_masks(inputs, tmp_path: Path) -> None:
    """The fast kernel (the default) draws other attention-dropout masks than sdpa, is sdpa without attention
    dropout, and neither the saved model nor a configuration saved before the setting names it."""
    fast = train(config(inputs, tmp_path / "fast"))
    sdpa = train(config(inputs, tmp_path / "sdpa", attention_kernel="sdpa"))
    assert _losses(fast) != _losses(sdpa)
    off = [
        train(config(inputs, tmp_path / f"off-{kernel}", attention_dropout=False, attention_kernel=kernel))
        for kernel in ("fast", "sdpa")
    ]
    assert _losses(off[0]) == _losses(off[1])
    assert "clearir" not in (fast.model_dir / "config.json").read_text()
    saved = json.loads((sdpa.out_dir / CONFIG_FILE).read_text())
    (tmp_path / "before.json").write_text(
        json.dumps({k: v for k, v in saved.items() if k != "attention_kernel"})
    )
    assert TrainConfig.load(tmp_path / "before.json").attention_kernel == "sdpa"


@pytest.mark.parametrize(
    ("loss", "changes", "components"),
    [
        ("clear", {"kl": False}, {"forward", "reverse"}),
        ("infonce", {}, {"infonce"}),
        ("infonce-en", {}, {"infonce"}),
        ("symmetric", {}, {"forward", "backward"}),
        ("jsd", {"jsd_weight": 0.5}, {"infonce", "jsd"}),
    ],
)
def test_each_loss_trains_and_logs_its_components(inputs, tmp_path: Path, loss, changes, components) -> None:
    result = train(config(inputs, tmp_path / "run", loss=loss, max_steps=1, **changes))
    (record,) = [json.loads(line) for line in result.loss_log.read_text().splitlines() if '"loss"' in line]
    assert (
        components <= record.keys()
        and not ({"forward", "reverse", "kl", "infonce", "jsd", "backward"} - components) & record.keys()
    )
    assert record["loss"] == pytest.approx(sum(record[c] for c in components), abs=2e-4)
    card = (result.model_dir / "README.md").read_text(encoding="utf-8")
    assert f"| `loss` | `{loss!r}` |" in card


def test_questions_and_passages_are_truncated_to_their_own_lengths(inputs) -> None:
    model = SentenceTransformer(str(inputs[0]), device="cpu")
    collator = ColumnLengthCollator(
        preprocess_fn=model.preprocess,
        prompts={"en_question": "query: "},
        column_max_length={"en_question": 8, "paragraphs": 20},
    )
    long = " ".join(["river"] * 100)
    batch = collator(
        [
            {"en_question": long, "paragraphs": long, "neg_1": long},
            {c: "a city" for c in ("en_question", "paragraphs", "neg_1")},
        ]
    )
    assert batch["en_question_input_ids"].shape == (2, 8)
    assert batch["paragraphs_input_ids"].shape == (2, 20)
    assert batch["neg_1_input_ids"].shape == (2, model.max_seq_length)  # no limit of its own: the model's
    assert model.tokenizer.decode(batch["en_question_input_ids"][1]).startswith("[CLS] query : a city")
