"""The seed report's figures of an ablation, one column wide (harness.report.style): per caption the final
population's scores with and without each critic, per change its paired per-caption effect, and for a failed
caption the picked images side by side."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.report import style
from harness.rundir.files import load_png


def population_scores(pops: dict[str, dict[str, np.ndarray]], critics: list[str], title: str):
    """pops[label][critic] -> one final population's scores; one panel per critic (two a row), a horizontal
    violin with its median per label (the full method first), so the distributions sit side by side."""
    labels = list(pops)
    ncols = 2 if len(critics) > 1 else 1
    nrows = -(-len(critics) // ncols)
    fig, axes = style.column_figure(nrows, ncols, height_cm=nrows * (0.55 * len(labels) + 1.6) + 0.8, sharey=True)
    positions = np.arange(len(labels))[::-1]  # the first label on top
    for ax, critic in zip(axes.flat, critics):
        data = [np.asarray(pops[label].get(critic, []), dtype=np.float64) for label in labels]
        keep = [i for i, d in enumerate(data) if np.isfinite(d).sum() > 0]
        flat = [d[np.isfinite(d)] for d in data]
        varied = [i for i in keep if np.ptp(flat[i]) > 0]
        if varied:
            parts = ax.violinplot([flat[i] for i in varied], positions[varied], vert=False, showmedians=True,
                                  widths=0.8)
            for i, body in zip(varied, parts["bodies"]):
                body.set_facecolor(style.PALETTE[i % len(style.PALETTE)])
                body.set_alpha(0.6)
            for key in ("cmedians", "cmins", "cmaxes", "cbars"):
                parts[key].set_color("#333333")
                parts[key].set_linewidth(0.6)
        for i in keep:
            if i not in varied:  # a constant score: its one value
                ax.plot(flat[i][:1], [positions[i]], "|", color="#333333", ms=8)
        ax.set_title(critic)
        ax.set_xlabel("score")
        ax.set_yticks(positions, labels)
        ax.xaxis.get_major_formatter().set_useOffset(False)
        ax.locator_params(axis="x", nbins=4)
    for ax in list(axes.flat)[len(critics):]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig


def paired_effects(rows: list[tuple[str, np.ndarray, dict]], title: str):
    """rows: (measure, per-caption mean differences, its summary entry with value and interval). One thin panel
    per measure: every caption's difference as a grey dot, the mean of caption means with its interval in
    black, zero marked."""
    fig, axes = style.column_figure(len(rows), 1, height_cm=1.35 * len(rows) + 1.2)
    rng = np.random.default_rng(0)  # jitter only: the same figure every time
    for ax, (name, diffs, entry) in zip(axes[:, 0], rows):
        d = np.asarray(diffs, dtype=np.float64)
        d = d[np.isfinite(d)]
        ax.scatter(d, rng.uniform(-0.3, 0.3, len(d)), s=6, color="#9a9a9a", lw=0, label="caption")
        if entry.get("value") is not None:
            lo, hi = entry.get("interval") or (entry["value"], entry["value"])
            ax.errorbar([entry["value"]], [0], xerr=[[entry["value"] - lo], [hi - entry["value"]]], fmt="o",
                        color="black", ms=3.5, capsize=2.5, lw=1, label="mean [95 % CI]")
        ax.axvline(0, color="#d62728", lw=0.7, ls="--")
        span = np.concatenate([d, [entry.get("value") or 0.0], entry.get("interval") or []])
        if not np.ptp(span) > 1e-12:  # every caption the same: a readable axis around it, not 1e-17 ticks
            ax.set_xlim(span[0] - 1.0, span[0] + 1.0)
        ax.set_ylim(-0.6, 0.6)
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.xaxis.get_major_formatter().set_useOffset(False)
        ax.locator_params(axis="x", nbins=5)
    axes[-1, 0].set_xlabel("difference (variant − full method)")
    fig.suptitle(title)
    style.legend_below(fig, [axes[0, 0]], ncol=2)
    return fig


def strip(images: list[tuple[str, Path | None]], title: str):
    """Picked images side by side (three a row), each titled: without search, the full method, each variant."""
    ncols = min(3, max(len(images), 1))
    nrows = -(-len(images) // ncols)
    width_cm = style.COLUMN_CM / ncols
    fig, axes = style.column_figure(nrows, ncols, height_cm=nrows * (width_cm + 0.6) + 0.6)
    for ax, (label, path) in zip(axes.flat, images):
        if path is not None and Path(path).is_file():
            ax.imshow(load_png(path).permute(1, 2, 0).numpy(), interpolation="nearest")
        else:
            ax.text(0.5, 0.5, "not in this run", ha="center", va="center", fontsize=style.MIN_FONT_PT)
        ax.set_title(label, fontsize=style.MIN_FONT_PT)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(images):]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig
