"""The funnel plot painted in two layers (the funnel remembered, the highlight laid over it):
the picture matplotlib draws whole, whichever funnels a process remembers."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from smp_analysis.methods.funnel import funnel_limits
from smp_analysis.report import funnel_chart
from smp_analysis.report.charts import FOCUS_COLOUR

CODES = [f"E0700010{i}" for i in range(6)]


def _funnel(names: list[str] | None = None, **changes) -> dict:
    points = pd.DataFrame({"denominator": [90e3, 118e3, 150e3, 176e3, 215e3, 298e3],
                           "value": [57.1, 61.4, 87.8, 48.2, 64.0, 72.0],
                           "name": names or ["Ashford", "Dover", "Thanet", "Swale", "Dartford",
                                             "Medway"]}, index=CODES)
    grid = pd.Series(np.linspace(80e3, 320e3, 60))
    curve = funnel_limits(grid, 62.7, per=1000)
    curve.insert(0, "denominator", grid.to_numpy())
    return {"points": points, "curve": curve, "target": 62.7,
            "title": "Recorded crime per 1,000", "xlabel": "Residents",
            "ylabel": "Crimes per 1,000", "caption": "c", "alt": "a funnel plot of six districts",
            "synthetic": True, "target_label": "Kent rate", **changes}


def _pixels(picture: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(picture)).convert("RGB")).astype(int)


def _whole(monkeypatch, **kwargs) -> bytes:
    """The same funnel drawn whole (nothing remembered, no layers)."""
    with monkeypatch.context() as patch:
        patch.setattr(funnel_chart, "_remembered", lambda drawing: None)
        return funnel_chart.funnel_plot(**kwargs).png


def _matplotlib_highlight(focus: str, **kwargs) -> bytes:
    """The reference: the funnel with its highlight drawn by matplotlib on the funnel's own
    axes, in data coordinates (as the chart was drawn before it had layers)."""
    import matplotlib.pyplot as plt

    from smp_analysis.report import png

    drawing = {k: v for k, v in kwargs.items() if k not in ("caption", "alt")}
    row = drawing["points"].loc[focus]
    drawing["points"] = drawing["points"][["denominator", "value"]]
    fig, ax = funnel_chart._draw(**drawing)
    ax.scatter([row["denominator"]], [row["value"]], s=70, color=FOCUS_COLOUR, zorder=4)
    ax.annotate(row["name"], (row["denominator"], row["value"]), xytext=(6, 6),
                textcoords="offset points", color=FOCUS_COLOUR, fontweight="bold", zorder=5)
    picture = png.figure_png(fig)
    plt.close(fig)
    return picture


def test_the_highlight_laid_over_the_funnel_is_the_funnel_drawn_whole(monkeypatch):
    funnel_chart._funnels.clear()
    plain = _pixels(funnel_chart.funnel_plot(**_funnel(focus="nowhere")).png)
    for focus in CODES[:3]:
        layered = _pixels(funnel_chart.funnel_plot(**_funnel(focus=focus)).png)
        whole = _pixels(_whole(monkeypatch, **_funnel(focus=focus)))
        reference = _pixels(_matplotlib_highlight(focus, **_funnel()))
        assert layered.shape == whole.shape == plain.shape == reference.shape
        # the same picture, to a level of rounding in the blending of the highlight's edges
        assert np.abs(layered - whole).max() <= 2
        # and what matplotlib draws on the funnel's own axes, in data coordinates
        assert np.abs(layered - reference).max() <= 2
        # and the highlight is there: a disc of the focus colour the plain funnel has not
        focus_rgb = np.array([int(FOCUS_COLOUR[i:i + 2], 16) for i in (1, 3, 5)])
        found = (np.abs(layered - focus_rgb).max(axis=2) <= 2).sum()
        before = (np.abs(plain - focus_rgb).max(axis=2) <= 2).sum()
        assert found - before >= 40, (focus, found, before)
    assert len(funnel_chart._funnels) == 1  # one funnel painted for every highlight


def test_the_same_inputs_give_the_same_png_whatever_was_remembered():
    funnel_chart._funnels.clear()
    first = {f: funnel_chart.funnel_plot(**_funnel(focus=f)).png for f in CODES}
    funnel_chart._funnels.clear()
    again = {f: funnel_chart.funnel_plot(**_funnel(focus=f)).png for f in reversed(CODES)}
    assert first == again
    assert len(set(first.values())) == len(CODES)
    # another funnel (other data) is painted and remembered beside it
    other = funnel_chart.funnel_plot(**_funnel(focus=CODES[0], target_label="England rate"))
    assert other.png != first[CODES[0]] and len(funnel_chart._funnels) == 2


def test_a_name_reaching_outside_the_funnel_is_drawn_whole(monkeypatch):
    """A long name at the right-hand edge ends beyond the funnel's crop: the picture is drawn
    whole, wider, with all of the name."""
    long = "Tonbridge and Malling and Tunbridge Wells Community Safety Partnership"
    names = ["Ashford", "Dover", "Thanet", "Swale", "Dartford", long]
    funnel_chart._funnels.clear()
    picture = funnel_chart.funnel_plot(**_funnel(names, focus=CODES[5])).png
    plain = funnel_chart.funnel_plot(**_funnel(names, focus="nowhere")).png
    assert _pixels(picture).shape[1] > _pixels(plain).shape[1]
    assert picture == _whole(monkeypatch, **_funnel(names, focus=CODES[5]))


def test_a_focus_without_a_value_is_not_highlighted():
    funnel = _funnel(focus=CODES[2])
    funnel["points"] = funnel["points"].assign(value=lambda f: f["value"].where(
        f.index != CODES[2]))
    missing = funnel_chart.funnel_plot(**funnel).png
    assert missing == funnel_chart.funnel_plot(**{**funnel, "focus": "nowhere"}).png


def test_every_funnel_needs_alt_text():
    with pytest.raises(ValueError, match="alt text"):
        funnel_chart.funnel_plot(**{**_funnel(focus=CODES[0]), "alt": "  "})
