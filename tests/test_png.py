"""Figures painted in one draw and cropped to the ink are the pictures matplotlib's tight
bounding box gives (report/png.py)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from smp_analysis.report.png import (  # noqa: E402
    COMPRESS_LEVEL,
    ROOM_SIDES,
    encoded,
    figure_png,
    png_in_one_draw,
)


def _tight(fig) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGBA"))


def _chart(outside: float = 1.02):
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1, 2], [3, 1, 2], label="a line")
    ax.set_title("A title", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(outside, 1.0))  # outside the axes, as the style
    fig.text(0.99, 0.01, "Synthetic demonstration data", ha="right", va="bottom")
    return fig


def _assert_same_picture(expected: np.ndarray, got: np.ndarray) -> None:
    # the crop follows the ink, the tight box the artists' boxes, so the margins may differ
    # by a few pixels; compare the ink, aligned on its top-left corner
    def ink(a):
        drawn = (a[..., :3] < 250).any(axis=2)
        rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
        return a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]

    a, b = ink(expected).astype(int), ink(got).astype(int)
    assert abs(a.shape[0] - b.shape[0]) <= 2 and abs(a.shape[1] - b.shape[1]) <= 2
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    differ = (np.abs(a[:h, :w] - b[:h, :w]).max(axis=2) > 60).mean()
    assert differ < 0.02  # antialiasing at a sub-pixel offset, not a different picture
    # and the margin is savefig.pad_inches, as the tight box gives
    assert abs(got.shape[0] - expected.shape[0]) <= 4 and abs(got.shape[1] - expected.shape[1]) <= 4


@pytest.mark.parametrize("outside", [1.02, 1.1])
def test_one_draw_is_the_tight_picture(outside):
    fig = _chart(outside)
    expected = _tight(fig)
    got = np.asarray(Image.open(io.BytesIO(png_in_one_draw(fig))).convert("RGBA"))
    plt.close(fig)
    _assert_same_picture(expected, got)


def test_the_default_room_keeps_long_names_and_outside_legends_in_one_draw():
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hlines([0, 1], [1, 2], [3, 5], lw=2.5, label="a range")  # as the rank-range chart
    ax.scatter([2, 3], [0, 1], s=30)
    ax.set_yticks([0, 1], ["Criminal damage and arson (domestic)", "Shoplifting"])
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="a long legend title here")
    assert png_in_one_draw(fig) is None  # beyond an inch: that room would fall back
    got = png_in_one_draw(fig, left=ROOM_SIDES, right=ROOM_SIDES)
    assert got is not None
    _assert_same_picture(_tight(fig), np.asarray(Image.open(io.BytesIO(got)).convert("RGBA")))
    # what a chart's finish() stores: that picture, three channels (the figure is opaque)
    assert Image.open(io.BytesIO(figure_png(fig))).mode == "RGB"
    plt.close(fig)


def test_something_far_outside_falls_back_to_the_tight_box():
    fig = _chart()
    fig.text(-0.5, 0.5, "far to the left of the figure")  # 3 inches out: beyond the room
    assert png_in_one_draw(fig) is None
    png = figure_png(fig)  # the tight box still shows all of it
    shown = Image.open(io.BytesIO(png))
    plt.close(fig)
    assert shown.size[0] > 6 * fig.dpi * 1.3


def test_the_same_figure_gives_the_same_bytes():
    first, second = _chart(), _chart()
    assert figure_png(first) == figure_png(second)
    plt.close("all")


def test_the_png_is_lossless_and_drops_only_an_opaque_alpha_channel():
    rng = np.random.default_rng(1)
    opaque = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    opaque[..., 3] = 255
    see_through = opaque.copy()
    see_through[3, 4, 3] = 10  # one pixel not opaque: the alpha channel is kept
    for pixels, mode in ((opaque, "RGB"), (see_through, "RGBA")):
        buffer = io.BytesIO()
        encoded(pixels).save(buffer, format="png", compress_level=COMPRESS_LEVEL)
        back = Image.open(io.BytesIO(buffer.getvalue()))
        assert back.mode == mode
        assert np.array_equal(np.asarray(back.convert("RGBA")), pixels)
