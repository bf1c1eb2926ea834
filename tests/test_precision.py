"""The precision setting: what ``auto`` picks (from fake ``/proc/cpuinfo`` text and a faked CUDA), the fp32
path equal to the plain float32 one, bf16 encoding close to fp32 with the weights put back untouched, cache
folders per precision, float32 loss maths under bf16 autocast, GradCache under autocast, and the trainer's
mixed-precision switch. Runs the same on a CPU with or without bf16."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from clearir.errors import ClearirError
from clearir.evaluation.encoder import TextEncoder
from clearir.losses import CLEARLoss, RowEmbeddings
from clearir.losses.functional import cosine_scores
from clearir.precision import cpu_flags, cpu_has_bf16, describe, resolve_precision
from clearir.training.config import TrainConfig
from clearir.training.trainer import _training_args
from tests.test_losses_cached import assert_same, reference_with_dropout, step
from tests.tiny_model import TOY_COLUMNS, TOY_ROWS, make_tiny_model, tokenize_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu vme sse sse2 avx2 avx512f avx512bw avx512_bf16 avx512_vnni
processor\t: 1
flags\t\t: fpu vme sse sse2 avx2 avx512f avx512bw avx512_bf16 avx512_vnni
"""
SAPPHIRE_RAPIDS = "flags\t\t: fpu sse2 avx2 avx512f amx_tile amx_int8 amx_bf16\n"
SKYLAKE = "flags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_vnni\nbugs\t\t: avx512_bf16_is_not_a_flag\n"
TEXTS = [
    ("query: ", "where is the river"),
    ("passage: ", "the river city is the capital of the world " * 3),
    ("", "a b c"),
    ("query: ", "x"),
    ("passage: ", "he wrote the play in 1808"),
]


def test_cpu_flags_are_parsed_from_cpuinfo_text() -> None:
    assert {"avx512_bf16", "avx512f", "fpu"} <= cpu_flags(ZEN4)
    assert cpu_has_bf16(ZEN4) and cpu_has_bf16(SAPPHIRE_RAPIDS)
    assert not cpu_has_bf16(SKYLAKE)  # the flag must be in a flags line, not elsewhere
    assert not cpu_has_bf16("")


def test_auto_is_bf16_only_where_the_cpu_flag_is_present() -> None:
    assert resolve_precision("auto", cpuinfo=ZEN4) == "bf16"
    assert resolve_precision("auto", cpuinfo=SAPPHIRE_RAPIDS) == "bf16"
    assert resolve_precision("auto", cpuinfo=SKYLAKE) == "fp32"
    for cpuinfo in (ZEN4, SKYLAKE):
        assert resolve_precision("fp32", cpuinfo=cpuinfo) == "fp32"
        assert resolve_precision("bf16", cpuinfo=cpuinfo) == "bf16"
    with pytest.raises(ClearirError, match="--precision 'fp16': expected one of auto, fp32, bf16"):
        resolve_precision("fp16")
    assert describe("auto", "bf16") == "bf16 (auto)" and describe("fp32", "fp32") == "fp32"


def test_auto_reads_proc_cpuinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "cpuinfo"
    monkeypatch.setattr("clearir.precision.CPUINFO", fake)
    assert resolve_precision("auto") == "fp32"  # unreadable: fp32
    fake.write_text(SKYLAKE)
    assert resolve_precision("auto") == "fp32"
    fake.write_text(ZEN4)
    assert resolve_precision("auto") == "bf16"


def test_auto_on_cuda_follows_the_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for supported, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda supported=supported: supported)
        assert resolve_precision("auto", "cuda", cpuinfo=ZEN4 if not supported else SKYLAKE) == expected


def test_fp32_encoding_is_the_plain_float32_path() -> None:
    """Forced fp32, the encoder gives exactly what ``model.encode`` (clearir's encoding before precision
    existed) gives, bit for bit."""
    model = make_tiny_model().eval()
    embeddings, _ = TextEncoder(model, batch_size=1, progress=False, precision="fp32").encode(TEXTS)
    for prompt, text in TEXTS:
        direct = model.encode([text], prompt=prompt, batch_size=1, normalize_embeddings=True)
        assert np.array_equal(embeddings.lookup([text], prompt), direct)


def test_bf16_encoding_is_close_to_fp32_and_puts_the_weights_back() -> None:
    model = make_tiny_model().eval()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    fp32, _ = TextEncoder(model, batch_size=2, progress=False, precision="fp32").encode(TEXTS)
    encoder = TextEncoder(model, batch_size=2, progress=False, precision="bf16")
    bf16, _ = encoder.encode(TEXTS)
    assert encoder.precision == "bf16"
    assert bf16.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(bf16.vectors, axis=1), 1.0, atol=1e-6)
    cosines = (fp32.vectors * bf16.vectors).sum(axis=1)
    assert cosines.min() > 0.999 and not np.array_equal(fp32.vectors, bf16.vectors)
    after = model.state_dict()
    assert all(
        torch.equal(after[name], tensor) and after[name].dtype == tensor.dtype
        for name, tensor in before.items()
    )


def test_cache_folders_differ_by_precision(tmp_path: Path) -> None:
    model = make_tiny_model().eval()
    fp32 = TextEncoder(model, cache_dir=tmp_path, progress=False, precision="fp32")
    bf16 = TextEncoder(model, cache_dir=tmp_path, progress=False, precision="bf16")
    assert fp32.cache is not None and bf16.cache is not None and fp32.cache.dir != bf16.cache.dir
    assert fp32.encode(TEXTS)[1].encoded == len(TEXTS)
    assert bf16.encode(TEXTS)[1].encoded == len(TEXTS)  # nothing of the fp32 cache is reused
    again = TextEncoder(model, cache_dir=tmp_path, progress=False, precision="bf16")
    assert again.encode(TEXTS)[1].cached == len(TEXTS)
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2


def test_fp32_scores_are_the_plain_float32_formula() -> None:
    """Without autocast, in float32, the scores are what they were before precision existed, bit for bit."""
    torch.manual_seed(1)
    anchors, candidates = torch.randn(5, 16), torch.randn(9, 16)
    old = 100.0 * F.normalize(anchors, dim=-1) @ F.normalize(candidates, dim=-1).T
    assert torch.equal(cosine_scores(anchors, candidates, 100.0), old)
    doubles = cosine_scores(anchors.double(), candidates.double(), 100.0)
    assert doubles.dtype == torch.float64  # float64 is never lowered


def test_loss_maths_is_float32_under_bf16_autocast() -> None:
    """bf16 embeddings under autocast: the scaled logits are float32, and the loss is exactly that of the same
    embeddings cast to float32 without autocast."""
    torch.manual_seed(0)
    rows, dim = 4, 16
    roles = {name: torch.randn(rows, dim).to(torch.bfloat16) for name in ("positive", "en", "lang")}
    negatives = [torch.randn(rows, dim).to(torch.bfloat16) for _ in range(2)]
    queries = [torch.randn(rows, dim).to(torch.bfloat16) for _ in range(2)]
    loss = CLEARLoss(make_tiny_model(), scale=100.0, bidirectional_reverse=True, columns=TOY_COLUMNS)

    def embeddings(cast) -> RowEmbeddings:
        return RowEmbeddings(
            positive=cast(roles["positive"]),
            negatives=[cast(t) for t in negatives],
            en_query=cast(roles["en"]),
            lang_query=cast(roles["lang"]),
            neg_queries=[cast(t) for t in queries],
        )

    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.mm(roles["en"].float(), roles["positive"].float().T).dtype == torch.bfloat16
        assert cosine_scores(roles["en"], roles["positive"], 100.0).dtype == torch.float32
        mixed = loss.compute_loss_from_embeddings(embeddings(lambda t: t))
    reference = loss.compute_loss_from_embeddings(embeddings(lambda t: t.float()))
    assert all(value.dtype == torch.float32 for value in mixed.values())
    assert {k: v.item() for k, v in mixed.items()} == {k: v.item() for k, v in reference.items()}


def test_bf16_training_step_computes_the_loss_in_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real forward + backward of the tiny model under bf16 autocast: bf16 activations, float32 logits."""
    model = make_tiny_model(dropout=0.0)
    loss = CLEARLoss(model, scale=100.0, columns=TOY_COLUMNS)
    seen: dict[str, torch.dtype] = {}
    original = cosine_scores

    def spy(anchors: torch.Tensor, candidates: torch.Tensor, scale: float) -> torch.Tensor:
        scores = original(anchors, candidates, scale)
        seen["logits"] = scores.dtype
        return scores

    def linear_hook(module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        seen["linear"] = output.dtype

    monkeypatch.setattr("clearir.losses.clear.cosine_scores", spy)
    model[0].auto_model.encoder.layer[0].intermediate.dense.register_forward_hook(linear_hook)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        components = loss(tokenize_rows(model, TOY_ROWS[:4]))
    total = torch.stack(list(components.values())).sum()
    total.backward()
    assert seen == {"linear": torch.bfloat16, "logits": torch.float32}
    assert total.dtype == torch.float32 and torch.isfinite(total)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # float32 master weights
    assert all(p.grad.dtype == torch.float32 for p in model.parameters() if p.grad is not None)


def test_gradcache_replays_bf16_under_autocast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forward under autocast, backward outside it (the usual loop): GradCache's second pass re-embeds each
    mini-batch in bf16 as its first pass did, to the same embeddings bit for bit, and loss and gradients
    match one autograd graph through the same bf16 mini-batch forwards (gradients to bf16 rounding: the
    backward runs in bf16). The fp32 step is untouched: cached still equals uncached."""
    model = make_tiny_model(dropout=0.1)
    rows = TOY_ROWS[:6]
    loss = CLEARLoss(model, columns=TOY_COLUMNS, mini_batch_size=3)
    passes: dict[bool, list[torch.Tensor]] = {False: [], True: []}
    embed = CLEARLoss.embed_minibatch

    def spy(self, sentence_feature, begin, end, with_grad, copy_random_state, random_state=None):
        reps, state = embed(self, sentence_feature, begin, end, with_grad, copy_random_state, random_state)
        passes[with_grad].append(reps.detach().clone())
        return reps, state

    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = reference_with_dropout(loss, model, rows, seed=3)
        passes[True].clear()
        monkeypatch.setattr(CLEARLoss, "embed_minibatch", spy)
        got = step(loss, model, rows, seed=3, backward_outside=True)
    assert len(passes[False]) == len(passes[True]) == 10  # 5 columns x 2 mini-batches
    assert all(torch.equal(a, b) for a, b in zip(passes[False], passes[True], strict=True))
    assert got[0] == pytest.approx(expected[0], rel=1e-5)
    assert_same(got, expected, rtol=3e-2)
    monkeypatch.undo()
    assert_same(
        step(CLEARLoss(model.eval(), columns=TOY_COLUMNS, mini_batch_size=3), model, rows),
        step(CLEARLoss(model, columns=TOY_COLUMNS), model, rows),
    )


@pytest.mark.parametrize(
    ("precision", "cpuinfo", "bf16"),
    [
        ("fp32", ZEN4, False),
        ("bf16", SKYLAKE, True),
        ("auto", ZEN4, True),
        ("auto", SKYLAKE, False),
    ],
)
def test_trainer_mixed_precision_follows_the_setting(
    precision: str, cpuinfo: str, bf16: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "cpuinfo"
    fake.write_text(cpuinfo)
    monkeypatch.setattr("clearir.precision.CPUINFO", fake)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = _training_args(TrainConfig(data="rows", out="out", precision=precision), tmp_path, {})
    assert args.bf16 is bf16


def test_bad_precision_is_a_clear_error() -> None:
    with pytest.raises(ClearirError, match="--precision 'half'"):
        TrainConfig(data="rows", out="out", precision="half")
    with pytest.raises(ClearirError, match="--precision 'half'"):
        TextEncoder(make_tiny_model(), progress=False, precision="half")


def test_ablation_precision_is_shared_and_keys_the_evaluation() -> None:
    from clearir.experiment.grid import load_plan
    from clearir.experiment.settings import SharedSettings
    from clearir.experiment.store import eval_key

    fp32 = load_plan(set_=["langs=de", "precision=fp32"])
    bf16 = load_plan(set_=["langs=de", "precision=bf16"])
    assert (fp32.shared.precision, bf16.shared.precision) == ("fp32", "bf16")
    assert eval_key(fp32, None, "model", False) != eval_key(
        bf16, None, "model", False
    )  # the evaluation keys differ
    assert fp32.runs[0].id == bf16.runs[0].id  # the run's settings are the same
    shared = SharedSettings(precision="bf16")
    assert fp32.runs[0].settings.train_config("rows", "out", "model", shared).precision == "bf16"
    with pytest.raises(ClearirError, match="precision 'half': expected one of auto, fp32, bf16"):
        load_plan(set_=["langs=de", "precision=half"])
