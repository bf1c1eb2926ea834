"""Report figures: valid PNG images of a sensible size, one per kind of data present."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from clearir.report import RunResults
from clearir.report.figures import BASE_COLOR, LOSS_COLORS
from clearir.report.plots import render_plots
from tests.test_report_tables import synthetic_results


def _image(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    image.verify()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _covers(pixels: np.ndarray, color: str) -> int:
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).max(axis=2) <= 2).sum())


def test_all_figures_are_valid_pngs_with_each_series() -> None:
    pngs = render_plots(synthetic_results(name="plots $x$ <b>"))
    assert set(pngs) == {"ndcg_by_direction.png", "mixed_pool.png", "loss_curves.png"}
    for name, png in pngs.items():
        pixels = _image(png)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 400, name
        assert len(np.unique(pixels @ np.array([65536, 256, 1]))) > 50, name
    # Bars: base, InfoNCE and CLEAR each drawn in their own colour.
    for name in ("ndcg_by_direction.png", "mixed_pool.png"):
        pixels = _image(pngs[name])
        for color in (BASE_COLOR, *LOSS_COLORS[:2]):
            assert _covers(pixels, color) > 1000, (name, color)


def test_figures_without_data_are_left_out() -> None:
    full = synthetic_results()
    # Base model only, no mixed pool, no training curves: just the nDCG figure would have rows, and it has no
    # fine-tuned model to compare, so it still shows the base bars.
    results = RunResults(
        name="base-only",
        created=full.created,
        config={},
        versions={},
        models=[full.base],
        evaluations=[e for e in full.evaluations if e.model == "base" and not e.is_mixed],
    )
    pngs = render_plots(results)
    assert set(pngs) == {"ndcg_by_direction.png"}
    assert _covers(_image(pngs["ndcg_by_direction.png"]), BASE_COLOR) > 1000
