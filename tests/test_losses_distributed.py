"""``gather_across_devices``: 2 CPU processes (gloo) give the loss and gradients of 1 process holding the
whole batch, hard negatives included (so the label offsets must be right)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from clearir.losses import CLEARLoss, InfoNCELoss, JSDAlignmentLoss, SymmetricInfoNCELoss
from clearir.losses.distributed import gather_rows
from tests.tiny_model import TOY_COLUMNS, TOY_ROWS, make_tiny_model, tokenize_rows

WORLD = 2
ROWS = TOY_ROWS[:8]  # 4 rows per process
CASES = {
    "clear": lambda model, **kw: CLEARLoss(model, **kw),
    "clear-cached": lambda model, **kw: CLEARLoss(model, mini_batch_size=3, **kw),
    "infonce": lambda model, **kw: InfoNCELoss(model, **kw),
    "symmetric": lambda model, **kw: SymmetricInfoNCELoss(model, **kw),
    "jsd-cached": lambda model, **kw: JSDAlignmentLoss(model, query="both", mini_batch_size=2, **kw),
}
UNEVEN = (5, 3)  # rows of process 0 and 1 in the uneven case


def grads_of(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def run_ddp_case(rank: int, name: str) -> dict:
    """Each process trains on its share of ROWS under DDP, which averages the gradients of the processes."""
    model = make_tiny_model(dropout=0.0)
    loss = CASES[name](model, columns=TOY_COLUMNS, gather_across_devices=True)
    loss.model = DistributedDataParallel(model)  # as sentence-transformers' trainer wraps it
    share = len(ROWS) // WORLD
    components = loss(tokenize_rows(model, ROWS[rank * share : (rank + 1) * share]))
    torch.stack(list(components.values())).sum().backward()
    return {"components": {k: v.detach() for k, v in components.items()}, "grads": grads_of(model)}


def run_uneven_case(rank: int) -> dict:
    """Processes with 5 and 3 rows: weighting each process's mean by its share of rows and summing the
    gradients gives the whole-batch loss, if the gather handles unequal sizes and offsets."""
    model = make_tiny_model(dropout=0.0)
    loss = CLEARLoss(model, columns=TOY_COLUMNS, gather_across_devices=True)
    start = sum(UNEVEN[:rank])
    components = loss(tokenize_rows(model, ROWS[start : start + UNEVEN[rank]]))
    weight = UNEVEN[rank] / sum(UNEVEN)
    total = weight * torch.stack(list(components.values())).sum()
    total.backward()
    for p in model.parameters():
        dist.all_reduce(p.grad)
    dist.all_reduce(total := total.detach())
    return {"total": total, "grads": grads_of(model)}


def worker(rank: int, init_file: str, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        results = {name: run_ddp_case(rank, name) for name in CASES}
        results["uneven"] = run_uneven_case(rank)
        embeddings = torch.full((2 + rank, 3), float(rank), requires_grad=True)
        gathered, offset = gather_rows([embeddings, 2 * embeddings])
        (gathered[0].sum() + gathered[1].sum()).backward()
        results["gather"] = {
            "gathered": [g.detach() for g in gathered],
            "offset": offset,
            "grad": embeddings.grad,
        }
        torch.save(results, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def distributed_results(tmp_path_factory) -> list[dict]:
    directory = tmp_path_factory.mktemp("ddp")
    mp.spawn(worker, args=(str(directory / "init"), str(directory)), nprocs=WORLD, join=True)
    return [torch.load(directory / f"rank{rank}.pt") for rank in range(WORLD)]


def single_process(name: str) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    model = make_tiny_model(dropout=0.0)
    components = CASES[name](model, columns=TOY_COLUMNS)(tokenize_rows(model, ROWS))
    torch.stack(list(components.values())).sum().backward()
    return {k: v.item() for k, v in components.items()}, grads_of(model)


def assert_grads(got: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    assert got.keys() == expected.keys()
    noise = 1e-3 * max(g.abs().max().item() for g in expected.values())
    for name, grad in expected.items():
        error = (got[name] - grad).abs().max().item()
        assert error <= 1e-5 * max(grad.abs().max().item(), noise), f"{name}: max error {error:.3g}"


@pytest.mark.parametrize("name", CASES)
def test_two_processes_equal_one(distributed_results: list[dict], name: str) -> None:
    components, grads = single_process(name)
    per_rank = [result[name] for result in distributed_results]
    for key, value in components.items():  # equal shares: the mean of the processes' means
        mean = sum(r["components"][key].item() for r in per_rank) / WORLD
        assert mean == pytest.approx(value, rel=1e-5), key
    for result in per_rank:  # DDP has averaged the gradients: every process holds the whole-batch gradient
        assert_grads(result["grads"], grads)


def test_unequal_shares(distributed_results: list[dict]) -> None:
    components, grads = single_process("clear")
    for result in distributed_results:
        assert result["uneven"]["total"].item() == pytest.approx(sum(components.values()), rel=1e-5)
        assert_grads(result["uneven"]["grads"], grads)


def test_gather_rows_offsets_and_gradients(distributed_results: list[dict]) -> None:
    """Process 0 holds 2 rows of 0s, process 1 3 rows of 1s; each row's gradient comes back to its owner."""
    expected = torch.tensor([0.0] * 2 + [1.0] * 3).unsqueeze(1).expand(5, 3)
    for rank, result in enumerate(distributed_results):
        gathered = result["gather"]
        assert torch.equal(gathered["gathered"][0], expected)
        assert torch.equal(gathered["gathered"][1], 2 * expected)
        assert gathered["offset"] == 2 * rank
        # every process back-propagates sum(rows) + sum(2·rows): 3 per entry from each of the 2 processes
        assert torch.equal(gathered["grad"], torch.full((2 + rank, 3), 3.0 * WORLD))


def test_without_process_group_gather_is_identity() -> None:
    tensor = torch.ones(2, 3)
    gathered, offset = gather_rows([tensor])
    assert offset == 0 and gathered[0] is tensor
