"""Figures for reports (matplotlib, Agg), in one style (harness.report.style): legible at a paper's column width.

Each PNG carries a `panels` text chunk (JSON: every panel's title and axis labels), so what a
figure shows can be checked from the file itself. SVG copies are written on request (always for ablations).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.report import style  # noqa: E402
from harness.rundir.files import atomic_write_bytes, load_png  # noqa: E402
METHOD_COLORS = {"no_selection": "#7f7f7f", "best_of_n": "#1f77b4", "clip_single": "#ff7f0e",
                 "four_objective": "#2ca02c"}


def method_colors(methods) -> dict[str, str]:
    """The report's methods keep their colours everywhere; any other method (a variant, a plugin method) takes
    the next palette colour no method of the figure has, so no two lines share one."""
    out = {m: METHOD_COLORS[m] for m in methods if m in METHOD_COLORS}
    free = iter([c for c in style.PALETTE[1:] if c not in out.values()] + list(style.PALETTE) * 4)
    for m in methods:
        if m not in out:
            out[m] = next(free)
    return out


def panels(fig) -> list[dict]:
    return [{"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel()}
            for ax in fig.axes if ax.get_visible() and ax.axison]


def save(fig, path: Path, svg: bool = False) -> Path:
    """Write `fig` as PNG (with its panels in a text chunk) and optionally SVG; returns the PNG path.
    A figure laid out with fixed margins (`fig.fixed_margins`) is saved as laid out: a tight bounding box
    draws the figure twice."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):  # a glyph no installed font has: a square, not a warning on stderr
        if text.get_text():
            text.set_text(style.drawable(text.get_text()))
    meta = {"panels": json.dumps(panels(fig)), "Software": "harness"}
    bbox = None if getattr(fig, "fixed_margins", False) else "tight"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches=bbox, metadata=meta, dpi=getattr(fig, "print_dpi", 100))
    atomic_write_bytes(path, buf.getvalue())
    if svg:
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", bbox_inches=bbox)
        atomic_write_bytes(path.with_suffix(".svg"), buf.getvalue())
    plt.close(fig)
    return path


def scatter_matrix(pop: pd.DataFrame, title: str, names: list[str]):
    """The critics' scores (`names`) of a final population, pairwise; first front highlighted, selected marked."""
    n = len(names)
    fig, axes = plt.subplots(n, n, figsize=(3.0 * n, 3.0 * n), squeeze=False)
    front = pop["pareto_rank"].to_numpy() == 0
    sel = pop["selected"].to_numpy()
    for i, yname in enumerate(names):
        for j, xname in enumerate(names):
            ax = axes[i, j]
            x, y = pop[xname].to_numpy(), pop[yname].to_numpy()
            if i == j:
                ax.hist(x, bins=15, color="#bbbbbb", edgecolor="white")
                ax.set_title(xname)
                ax.set_xlabel(xname)
                ax.set_ylabel("count")
            else:
                ax.scatter(x[~front], y[~front], s=12, c="#bbbbbb", label="population")
                ax.scatter(x[front], y[front], s=16, c="#2ca02c", label="first front")
                ax.scatter(x[sel], y[sel], s=120, marker="*", c="#d62728", label="selected")
                ax.set_xlabel(xname)
                ax.set_ylabel(yname)
            for axis in (ax.xaxis, ax.yaxis):  # a score that barely varies: plain ticks, never "1e-8+6.88e-1"
                axis.get_major_formatter().set_useOffset(False)
            ax.locator_params(nbins=4)  # legible on a 3-inch panel (and fewer ticks to draw)
    handles, labels = axes[0, min(1, n - 1)].get_legend_handles_labels()
    fig.suptitle(title)
    # fixed margins for 3-inch panels (tight_layout measures every label: most of the figure's cost)
    fig.subplots_adjust(left=0.95 / (3.0 * n), right=1 - 0.1 / n, bottom=0.04 + 0.5 / (3.0 * n), top=0.96 - 0.2 / n,
                        wspace=0.4, hspace=0.4)
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)  # below the panels, never on a point
    fig.fixed_margins = True
    return fig


def gallery(images: list[tuple[str, Path | None]], title: str):
    """Images side by side, each titled (e.g. one per method)."""
    fig, axes = plt.subplots(1, len(images), figsize=(3.2 * len(images), 3.6), squeeze=False)
    for ax, (label, path) in zip(axes[0], images):
        if path is not None and Path(path).is_file():
            ax.imshow(load_png(path).permute(1, 2, 0).numpy(), interpolation="nearest")
        else:
            ax.text(0.5, 0.5, "missing", ha="center", va="center")
        ax.set_title(label)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def curves(series: dict[str, dict], ylabel: str, title: str):
    """Mean curve per method with its band over jobs (the band each curve names: interquartile range); one
    column wide, the legend below the axes, whole-number generations."""
    fig, axes = style.column_figure(1, 1, height_cm=6.5 + 0.45 * ((len(series) + 1) // 2))
    ax = axes[0, 0]
    colors = method_colors(series)
    for method, curve in series.items():
        mean = np.asarray(curve["mean"])
        x = np.arange(len(mean))
        color = colors[method]
        ax.plot(x, mean, label=f"{method} (n={curve['n']})", color=color, lw=1.5)
        lo, hi = (curve["lo"], curve["hi"]) if "lo" in curve else (curve["min"], curve["max"])  # older metrics.json
        ax.fill_between(x, lo, hi, alpha=0.15, color=color)
    ax.set_xlabel("generation")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    style.integer_ticks(ax.xaxis)
    bands = {c.get("band", "min and max over jobs") for c in series.values()}
    style.legend_below(fig, [ax], ncol=2, title=f"shaded: {bands.pop()}" if len(bands) == 1 else None)
    return fig


def heatmap(matrix: np.ndarray, labels: list[str], title: str):
    fig, axes = style.column_figure(1, 1, height_cm=7.5)
    ax = axes[0, 0]
    im = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if np.isfinite(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=style.MIN_FONT_PT)
    ax.set_title(title)
    ax.set_xlabel("score")
    ax.set_ylabel("score")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def value_plot(table: pd.DataFrame, x: str, columns: list[str], title: str):
    """Mean with interval bars of several columns against a swept value (ablations): two panels a row, one
    column wide, the methods' legend below."""
    ncols = 2 if len(columns) > 1 else 1
    nrows = -(-len(columns) // ncols)
    fig, axes = style.column_figure(nrows, ncols, height_cm=4.2 * nrows + 1.2)
    colors = method_colors(dict.fromkeys(table["method"]))
    for ax, col in zip(axes.flat, columns):
        for method, group in table.groupby("method", sort=False):
            ax.errorbar(group[x].astype(str), group[f"{col}_mean"],
                        yerr=[group[f"{col}_mean"] - group[f"{col}_lo"], group[f"{col}_hi"] - group[f"{col}_mean"]],
                        marker="o", ms=3, capsize=2, label=method, color=colors[method])
        ax.set_title(col)
        ax.set_xlabel(x.rsplit(".", 1)[-1])
        ax.set_ylabel(col)
        ax.yaxis.get_major_formatter().set_useOffset(False)
    for ax in list(axes.flat)[len(columns):]:
        ax.set_visible(False)
    fig.suptitle(title)
    style.legend_below(fig, list(axes.flat), ncol=2)
    return fig


def judge_panel(z_scores: dict[str, dict], judges: list[str], title: str):
    """Methods x judges: each method's mean z-score under every judge (critics and held-out judges),
    with its interval; z over all picked images of the run, so judges on different scales compare."""
    methods = list(z_scores)
    fig, axes = style.column_figure(1, 1, height_cm=7.5 + 0.45 * ((len(methods) + 1) // 2))
    ax = axes[0, 0]
    width = 0.8 / max(len(methods), 1)
    x = np.arange(len(judges))
    colors = method_colors(methods)
    for i, method in enumerate(methods):
        entries = [z_scores[method].get(j, {}) for j in judges]
        mean = np.array([e.get("value") if e.get("value") is not None else np.nan for e in entries], dtype=float)
        lo = np.array([(e.get("interval") or [np.nan, np.nan])[0] for e in entries], dtype=float)
        hi = np.array([(e.get("interval") or [np.nan, np.nan])[1] for e in entries], dtype=float)
        err = np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(min=0)
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, mean, width, yerr=err, label=method, color=colors[method],
               error_kw={"elinewidth": 0.6, "capsize": 1.5, "ecolor": "#333333"})
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, judges, rotation=30, ha="right")
    ax.set_xlabel("judge (in-loop critics, then held-out judges)")
    ax.set_ylabel("mean z-score of the picked images")
    ax.set_title(title)
    style.legend_below(fig, [ax], ncol=2, title="bars: interval over captions")
    return fig
