"""A matplotlib figure as the PNG the appendix embeds: cropped to what is drawn, in one draw.

``savefig(bbox_inches="tight")`` draws a figure twice (once to lay it out and measure every
artist, once to paint it); most of an appendix's figure time was that first draw.
:func:`figure_png` paints once, with room around the figure for labels and legends the house
style puts outside the axes, and crops to the ink; matplotlib's tight box is the fallback
when something reaches beyond that room.
"""

from __future__ import annotations

import io

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np

# inches of room left and right of a figure for what the house style draws beside it (long
# category names on the left; legends and line labels on the right). Room costs little: an
# empty pixel is cleared, never drawn, and the crop is all that is encoded.
ROOM_SIDES = 3.0


def figure_png(fig: plt.Figure, *, room_left: float = ROOM_SIDES) -> bytes:
    """The PNG of `fig`, cropped to what is drawn plus ``savefig.pad_inches``; `room_left`
    inches are left for what is drawn left of the figure (:data:`ROOM_SIDES` on the right)."""
    freeze_date_ticks(fig)
    png = png_in_one_draw(fig, left=room_left, right=ROOM_SIDES)
    if png is None:  # something drawn far outside the figure: let matplotlib measure it all
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
        png = buffer.getvalue()
    return png


def png_in_one_draw(fig: plt.Figure, *, margin: float = 1.0, left: float | None = None,
                    right: float | None = None) -> bytes | None:
    """The figure as ``bbox_inches="tight"`` saves it, from one draw: painted with `margin`
    inches of room on every side (`left` and `right` inches there, when given), cropped to
    matplotlib's own tight box of the figure (measured with the renderer that painted it, so
    every text is measured already) padded by ``savefig.pad_inches``. None when that box
    reaches beyond the room (or the figure is not on an Agg canvas): then the caller saves it
    the usual way.

    ``bbox_inches="tight"`` draws twice, once to lay the figure out and measure every artist
    and once to paint it; labels and legends placed outside the axes (as the house style does)
    are why the room is needed.
    """
    painted = paint(fig, margin=margin, left=left, right=right)
    return None if painted is None else painted.png()


class Painted:
    """A figure painted with room around it (:func:`paint`): its pixels (``rgba``, rows top
    down), the box in pixels to crop to (``box``: left, top, right, bottom; the tight box
    padded by ``savefig.pad_inches``) and the resolution."""

    def __init__(self, rgba: np.ndarray, box: tuple[int, int, int, int], dpi: float):
        self.rgba, self.box, self.dpi = rgba, box, dpi

    def png(self, rgba: np.ndarray | None = None) -> bytes:
        """The PNG of the crop (of `rgba` instead, when given: the same picture drawn on)."""
        left, top, right, bottom = self.box
        png = io.BytesIO()
        encoded((self.rgba if rgba is None else rgba)[top:bottom, left:right]).save(
            png, format="png", dpi=(self.dpi, self.dpi), compress_level=COMPRESS_LEVEL)
        return png.getvalue()


def paint(fig: plt.Figure, *, margin: float = 1.0, left: float | None = None,
          right: float | None = None, transparent: bool = False) -> Painted | None:
    """`fig` painted in one draw with room around it (see :func:`png_in_one_draw`); None when
    its tight box reaches beyond the room or it is not on an Agg canvas. `transparent`: no
    figure or axes background (a layer to lay over another picture)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    dpi = plt.rcParams["savefig.dpi"]
    dpi = fig.dpi if dpi == "figure" else float(dpi)
    width, height = fig.get_size_inches()
    room = Bbox.from_extents(-(margin if left is None else left), -margin,
                             width + (margin if right is None else right), height + margin)
    if not isinstance(fig.canvas, FigureCanvasAgg):
        return None
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", bbox_inches=room, dpi=dpi, transparent=transparent)
    renderer = getattr(fig.canvas, "renderer", None)
    if renderer is None or renderer.dpi != dpi:
        return None
    shown_at, fig.dpi = fig.dpi, dpi  # as savefig had it while painting
    try:
        tight = fig.get_tightbbox(renderer).padded(plt.rcParams["savefig.pad_inches"])
    finally:
        fig.dpi = shown_at
    if not (tight.x0 >= room.x0 and tight.y0 >= room.y0 and tight.x1 <= room.x1
            and tight.y1 <= room.y1):
        return None
    data = raw.getvalue()
    columns = int(room.width * dpi)
    rows = len(data) // 4 // columns
    if rows * columns * 4 != len(data):
        return None
    box = (round((tight.x0 - room.x0) * dpi), round((room.y1 - tight.y1) * dpi),
           round((tight.x1 - room.x0) * dpi), round((room.y1 - tight.y0) * dpi))
    return Painted(np.frombuffer(data, np.uint8).reshape(rows, columns, 4), box, dpi)


# zlib's fastest level: on charts (large flat areas) a PNG of the opaque picture's three
# channels at level 1 is smaller than matplotlib's four at level 6, in 60% of the time
COMPRESS_LEVEL = 1


def encoded(rgba: np.ndarray):
    """The picture to encode: its RGB channels when it is opaque (a figure on its white
    face), so no alpha channel is stored; RGBA otherwise. Either is lossless.

    >>> import numpy as np
    >>> encoded(np.full((2, 3, 4), 255, np.uint8)).mode
    'RGB'
    >>> see_through = np.zeros((2, 3, 4), np.uint8)
    >>> encoded(see_through).mode
    'RGBA'
    """
    from PIL import Image

    if rgba[..., 3].min() == 255:
        return Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB")
    return Image.fromarray(np.ascontiguousarray(rgba), "RGBA")


def freeze_date_ticks(fig: plt.Figure) -> None:
    """Replace each automatic date locator by the ticks it gives now.

    Saving with a tight bounding box draws a figure several times, and every draw of every
    axes asks the date locator again (a date rule per call: most of the time of a grid of
    small monthly panels). Its ticks depend only on the axis's date range, which is final once
    the chart is drawn up, so the fixed ticks are the same ticks and the image the same image.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for which in ("major", "minor"):
                ticker = getattr(axis, which)
                if isinstance(ticker.locator, mdates.AutoDateLocator):
                    ticker.locator = mticker.FixedLocator(ticker.locator())
                    ticker.locator.set_axis(axis)
