"""A static map drawn on the server from the GeoDataFrames (GeoPandas + matplotlib),
for the printable dossier: no tiles, no browser, the layers in their legend colours,
the scope outlined, a scale bar and a north arrow. Drawn in Lambert-93, so the
scale bar is true in metres."""

from __future__ import annotations

import io
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from shapely.geometry.base import BaseGeometry

from ..layers import SYMBOLS, LayerSpec

METRIC = 2154
HIGHLIGHT = "#d7191c"


@dataclass
class PointColumns:
    """Many points as arrays, in Lambert-93: ``x``, ``y`` and each point's category
    as a code into ``values`` (-1: none). A million points are drawn from these
    without a geometry object each."""

    x: np.ndarray
    y: np.ndarray
    codes: np.ndarray
    values: list

    def __len__(self) -> int:
        return len(self.x)

    @property
    def empty(self) -> bool:
        """True without any point."""
        return len(self.x) == 0

    def one_per_pixel(self, extent, pixel: float) -> PointColumns:
        """The points in ``extent`` (a margin of a few pixels around), one per
        pixel of the picture and category: what a million markers would draw."""
        minx, miny, maxx, maxy = extent
        margin = 4 * pixel
        inside = np.flatnonzero(
            (self.x >= minx - margin)
            & (self.x <= maxx + margin)
            & (self.y >= miny - margin)
            & (self.y <= maxy + margin)
        )
        col = ((self.x[inside] - minx + margin) // pixel).astype(np.int64)
        row = ((self.y[inside] - miny + margin) // pixel).astype(np.int64)
        width = int((maxx - minx + 2 * margin) // pixel) + 1
        key = (row * width + col) * (len(self.values) + 1) + self.codes[inside] + 1
        _keys, first = np.unique(key, return_index=True)
        kept = inside[np.sort(first)]
        return PointColumns(self.x[kept], self.y[kept], self.codes[kept], self.values)

    @property
    def total_bounds(self) -> np.ndarray:
        """(minx, miny, maxx, maxy)."""
        return np.array([self.x.min(), self.y.min(), self.x.max(), self.y.max()])


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if isinstance(frame, PointColumns):
        return frame
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame if frame.crs.to_epsg() == METRIC else frame.to_crs(METRIC)


def _colours(frame: gpd.GeoDataFrame, spec: LayerSpec) -> np.ndarray:
    """Each feature's legend colour (RGBA rows), looked up once per category."""
    if spec.classes:
        classes = [spec.class_of(v) for v in frame[spec.class_field]]
        names = [spec.classes[k].color if k is not None else "#cccccc" for k in classes]
        return to_rgba_array(names)
    if spec.category_field and spec.category_field in frame:
        values = (
            frame[spec.category_field]
            .astype(object)
            .where(frame[spec.category_field].notna(), None)
        )
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        palette = to_rgba_array([spec.color_of(v) for v in uniques] or [spec.color])
        return palette[codes]
    return np.tile(to_rgba_array([spec.color]), (len(frame), 1))


def _draw_polygons(ax, frame, spec: LayerSpec) -> None:
    if frame.empty:
        return
    colours = _colours(frame, spec)
    if spec.classes:  # value classes (fibre): filled zones
        frame.plot(ax=ax, color=colours, alpha=0.5, edgecolor="#666666", linewidth=0.4)
        return
    dashed = (
        ~frame["published"].fillna(False).astype(bool)
        if "published" in frame
        else np.zeros(len(frame), bool)
    )
    for style, mask in (("-", ~dashed), ("--", dashed)):
        part = frame[np.asarray(mask)]
        if len(part):
            part.boundary.plot(
                ax=ax,
                color=colours[np.asarray(mask)],
                linewidth=1.6,
                linestyle=style,
            )


def _draw_points(ax, frame, spec: LayerSpec, count: int | None = None) -> None:
    """One marker line per colour (much faster than a scatter of 100,000 points),
    in the layer's own symbol; a dense (clustered) layer smaller, under the others."""
    if frame.empty:
        return
    count = len(frame) if count is None else count
    few = count < 2000
    size = 3 if few else (1.7 if count < 20000 else 0.8)
    if isinstance(frame, PointColumns):
        x, y = frame.x, frame.y
        # one colour per category value (the last: no value), then per point
        palette = to_rgba_array([spec.color_of(v) for v in [*frame.values, None]])
        unique, per_value = np.unique(palette, axis=0, return_inverse=True)
        codes = per_value.ravel()[frame.codes]
    else:
        x = shapely.get_x(frame.geometry.values)
        y = shapely.get_y(frame.geometry.values)
        colours = _colours(frame, spec)
        unique, codes = np.unique(colours, axis=0, return_inverse=True)
    for k, colour in enumerate(unique):
        mask = codes.ravel() == k
        ax.plot(
            x[mask],
            y[mask],
            linestyle="none",
            marker=SYMBOLS[spec.symbol].marker,
            markersize=size * (1 if spec.cluster else 1.5),
            markerfacecolor=colour,
            markeredgecolor="white" if few else colour,
            markeredgewidth=0.4 if few else 0,
            zorder=3 if spec.cluster else 4,
        )


def _scale_bar(ax, extent) -> None:
    minx, miny, maxx, maxy = extent
    width = maxx - minx
    steps = (100, 200, 500, 1000, 2000, 5000, 10000)
    length = max([s for s in steps if s <= width / 4] or [steps[0]])
    x0, y0 = minx + width * 0.04, miny + (maxy - miny) * 0.05
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3, zorder=6)
    label = f"{length // 1000} km" if length >= 1000 else f"{length} m"
    ax.text(x0, y0 + (maxy - miny) * 0.015, label, fontsize=7, zorder=6)
    ax.annotate(
        "N",
        xy=(0.96, 0.93),
        xytext=(0.96, 0.82),
        xycoords="axes fraction",
        ha="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black"},
    )


def extent_of(
    frames: list[gpd.GeoDataFrame],
    focus: BaseGeometry | None,
    ratio: float = 1.5,
    margin: float = 0.08,
) -> tuple[float, float, float, float]:
    """Metric bounds of the focus (if any) or of every frame, with a margin,
    widened to the ``ratio`` (width / height) of the picture."""
    if focus is not None:
        minx, miny, maxx, maxy = focus.bounds
    else:
        bounds = np.array([f.total_bounds for f in frames if not f.empty])
        if not len(bounds):
            bounds = np.array([[0.0, 0.0, 1000.0, 1000.0]])
        minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
        maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
    pad = max(maxx - minx, maxy - miny, 500) * margin
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    width, height = maxx - minx, maxy - miny
    if width / height < ratio:
        width = height * ratio
    else:
        height = width / ratio
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _names(ax, names, extent) -> None:
    """Place names (metric x, y, text) in dark grey on a white halo, those inside
    the picture only."""
    minx, miny, maxx, maxy = extent
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    for x, y, text in names:
        if minx < x < maxx and miny < y < maxy:
            ax.text(
                x,
                y,
                text,
                fontsize=5.2,
                color="#333333",
                ha="center",
                va="center",
                style="italic",
                zorder=6,
                path_effects=halo,
            )


def _numbers(ax, numbers) -> None:
    """Compared sites: their number (as in the dossier's tables) in a dark disc."""
    for x, y, number in numbers:
        ax.text(
            x,
            y,
            str(number),
            fontsize=6.5,
            color="white",
            fontweight="bold",
            ha="center",
            va="center",
            zorder=8,
            bbox={
                "boxstyle": "circle,pad=0.25",
                "fc": "#1d2530",
                "ec": "white",
                "lw": 0.8,
            },
        )


def static_map(
    layers: dict[str, tuple[gpd.GeoDataFrame, LayerSpec]],
    focus: BaseGeometry | None = None,
    outlines: list[BaseGeometry] = (),
    size: tuple[float, float] = (7.0, 4.6),
    dpi: int = 160,
    names: list[tuple[float, float, str]] = (),
    numbers: list[tuple[float, float, int]] = (),
) -> bytes:
    """A PNG of the layers (name -> (frame, spec)), framed on ``focus`` (metric)
    or on the whole data, with ``outlines`` (metric, e.g. a catchment) in red,
    place ``names`` (metric x, y, text) and the compared sites' ``numbers``
    (metric x, y, number)."""
    metric = {n: (_metric(f), s) for n, (f, s) in layers.items()}
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    for frame, spec in metric.values():
        if spec.geometry != "Point":
            _draw_polygons(ax, frame, spec)
    extent = extent_of([f for f, _s in metric.values()], focus, size[0] / size[1])
    pixel = (extent[2] - extent[0]) / (size[0] * dpi)
    for frame, spec in sorted(metric.values(), key=lambda fs: not fs[1].cluster):
        if spec.geometry == "Point":
            count = len(frame)  # the markers' size follows the whole layer's
            if isinstance(frame, PointColumns):
                frame = frame.one_per_pixel(extent, pixel)
            _draw_points(ax, frame, spec, count)
    for geom in outlines:
        gpd.GeoSeries([geom], crs=METRIC).boundary.plot(
            ax=ax, color=HIGHLIGHT, linewidth=2, linestyle="--", zorder=5
        )
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    _names(ax, names, extent)
    _numbers(ax, numbers)
    _scale_bar(ax, extent)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
