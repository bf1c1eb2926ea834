"""Multi-process training: ``torchrun --nproc_per_node 2 clearir train`` on CPU (gloo) matches one process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from clearir.training.config import TrainConfig
from clearir.training.trainer import train
from tests.train_data import tiny_model_dir, weights, write_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_train_like_one_process_on_the_same_global_batch(tmp_path: Path) -> None:
    # Without dropout, 2 processes x 4 rows gathering each other's candidates see the very batch of 8 that one
    # process sees (same data order, same negatives), and DDP averages their gradients into the same update.
    model = tiny_model_dir(tmp_path / "tiny", dropout=0.0)
    rows = write_rows(tmp_path / "rows", rows=16, num_negatives=1)
    common = [
        "--model",
        str(model),
        "--data",
        str(rows),
        "--num-negatives",
        "1",
        "--max-steps",
        "2",
        "--lr",
        "1e-3",
        "--warmup-ratio",
        "0",
        "--max-seq-length",
        "32",
        "--gather-across-devices",
        "--precision",
        "fp32",  # the bit-level comparison is of the fp32 arithmetic
    ]
    clearir = Path(sys.executable).with_name("clearir")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master-port",
        str(_free_port()),
        str(clearir),
        "train",
        *common,
        "--batch-size",
        "4",
        "--out",
        str(tmp_path / "ddp"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    # The checkpoint is renamed into place only after both ranks wrote their RNG state into it.
    checkpoint = tmp_path / "ddp" / "checkpoints" / "checkpoint-2"
    written = {p.name for p in checkpoint.iterdir()}
    assert {"rng_state_0.pth", "rng_state_1.pth", "model.safetensors"} <= written
    assert not (tmp_path / "ddp" / "checkpoints" / ".staging").exists()

    single = train(
        TrainConfig(
            data=str(rows),
            out=str(tmp_path / "one"),
            model=str(model),
            num_negatives=1,
            max_steps=2,
            lr=1e-3,
            warmup_ratio=0.0,
            max_seq_length=32,
            gather_across_devices=True,
            batch_size=8,
            precision="fp32",
        )
    )
    distributed, reference = weights(tmp_path / "ddp" / "model"), weights(single.model_dir)
    assert not torch.equal(
        reference["encoder.layer.1.output.dense.weight"],
        weights(model)["encoder.layer.1.output.dense.weight"],
    )
    # Attention key biases get a zero gradient in exact arithmetic (softmax ignores a shift shared by all
    # keys): theirs is rounding noise (~1e-11) that differs with the reduction order and that Adam scales up.
    compared = [name for name in reference if not name.endswith("attention.self.key.bias")]
    assert len(compared) == len(reference) - 2
    for name in compared:
        torch.testing.assert_close(distributed[name], reference[name], rtol=0, atol=2e-5, msg=name)

    def losses(log: Path) -> list[tuple[int, float]]:
        records = [json.loads(line) for line in log.read_text().splitlines()]
        return [(r["step"], r["loss"]) for r in records if "loss" in r]

    ddp_losses, one_losses = losses(tmp_path / "ddp" / "loss_log.jsonl"), losses(single.loss_log)
    assert [s for s, _ in ddp_losses] == [1, 2]  # logged once, by the main process
    assert [v for _, v in ddp_losses] == pytest.approx([v for _, v in one_losses], abs=1e-5)
