"""``clearir run``: a preset of the experiment engine — the default grid, whose axes are the training
languages and the losses, every other setting fixed at the settings model's defaults.

The defaults are the main job on a 2-core CPU machine: InfoNCE and the CLEAR recipe fine-tuned on hi (the
recipe ``clearir ablate`` found, ``TrainConfig``'s defaults), evaluated on XQuAD hi and en, every model also
with SHIFT, in about 4 minutes; zero-shot languages (``--eval-langs de``) and the paper's recipe (batch 64,
50 steps, full XQuAD) are flags away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from clearir.experiment.grid import Plan, plan_from_doc
from clearir.experiment.settings import DEFAULT_RUN, setting_value
from clearir.losses.clear import check_clear_options

# The axes of `clearir run` (grid key -> flag) and their defaults, and its shared settings other than the
# settings model's defaults.
AXES: dict[str, str] = {"langs": "--langs", "loss": "--losses"}
RUN_GRID: dict[str, tuple[str, ...]] = {"langs": ("hi",), "loss": ("infonce", "clear")}
# SHIFT is fitted anew for each model evaluated, here from 50 parallel pairs per language (default: 100):
# Complete@10 within 0.01 of 400 pairs on the base model (README, SHIFT), 13 s less for the run.
RUN_SHARED: dict[str, Any] = {"out": "runs/default", "keep_models": True, "shift_max_pairs": 50}
SOURCE = "clearir run"


def run_plan(
    axes: Mapping[str, tuple[str, ...]], fixed: Mapping[str, Any], shared: Mapping[str, Any]
) -> Plan:
    """The plan of ``clearir run``: every combination of the ``axes`` values (languages × losses), with the
    ``fixed`` run settings and ``shared`` settings (values as a grid file or the command line writes them)."""
    if "clear" in axes.get("loss", ()):  # one run's contradictory CLEAR options are an error, not a reset
        clear = replace(DEFAULT_RUN, **{k: setting_value(k, v, k) for k, v in fixed.items()})
        check_clear_options(clear.alpha, clear.beta, clear.kl, clear.symmetric_kl)
    doc = {
        "description": "clearir run: the base model and one fine-tuned model per (language, loss)",
        "shared": {**RUN_SHARED, **shared},
        "fixed": dict(fixed),
        "grid": {key: list(values) for key, values in axes.items()},
    }
    return plan_from_doc(doc, SOURCE)
