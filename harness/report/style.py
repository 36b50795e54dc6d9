"""One figure style for every report: sized for a paper's column (8.5 cm) and legible there.

A column figure is exactly COLUMN_CM wide, laid out by matplotlib's constrained layout (so saving never
changes its size), with text of at least MIN_FONT_PT points at that width, and saved as a 300-dpi PNG and a
vector copy (SVG, text kept as text so it stays editable). Legends sit inside or below the axes, never
beside them; generation axes have integer ticks.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

CM = 1 / 2.54  # inches per centimetre
COLUMN_CM = 8.5  # one column of a two-column paper or progress report
MIN_FONT_PT = 7  # the smallest text at column width (tick labels, legends)
FONT_PT = 8
PRINT_DPI = 300
RC = {"font.size": FONT_PT, "axes.titlesize": FONT_PT, "axes.labelsize": FONT_PT, "figure.titlesize": FONT_PT,
      "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT, "legend.fontsize": MIN_FONT_PT,
      "legend.title_fontsize": MIN_FONT_PT, "axes.linewidth": 0.6, "lines.linewidth": 1.2,
      "xtick.major.width": 0.6, "ytick.major.width": 0.6, "svg.fonttype": "none", "figure.dpi": 100}
PALETTE = ["#4d4d4d", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22"]

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Droid Sans Fallback", "Noto Color Emoji")
MISSING = "\u25a1"  # a white square stands for a character no installed font draws


def _families() -> list[str]:
    """DejaVu Sans, then every installed font of CJK_FONTS as a fallback (matplotlib falls back per glyph)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *(name for name in CJK_FONTS if name in installed)]


RC["font.family"] = _families()
plt.rcParams.update(RC)
_COVERED: set[int] = set()


def covered() -> set[int]:
    """The code points the figure fonts draw (their character maps, read once)."""
    if not _COVERED:
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font

        for family in plt.rcParams["font.family"]:
            path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
            _COVERED.update(FT2Font(path).get_charmap())
    return _COVERED


def drawable(text: str) -> str:
    """`text` with each character no figure font draws (Han without a CJK font, emoji) as a white square, so a
    figure shows where a glyph is missing instead of warning on stderr; report.md keeps the text itself."""
    chars = covered()
    return "".join(c if c.isspace() or ord(c) in chars else MISSING for c in text)


def column_figure(nrows: int = 1, ncols: int = 1, height_cm: float = 6.0, **kwargs):
    """A figure exactly one column wide (constrained layout: its size is what is saved)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(COLUMN_CM * CM, height_cm * CM), layout="constrained",
                             squeeze=False, **kwargs)
    fig.fixed_margins = True  # harness.report.figures.save: no tight bounding box, the size is the size
    fig.print_dpi = PRINT_DPI
    return fig, axes


def integer_ticks(axis) -> None:
    """Generations (and other counts) get whole-number ticks: never 'generation 0.5'."""
    axis.set_major_locator(MaxNLocator(integer=True))


def legend_below(fig, axes, ncol: int = 2, title: str | None = None) -> None:
    """One legend for the figure, under its panels (covers no data, takes no width from the plots); one entry a
    row when the labels are too long for two to fit the column."""
    handles, labels = {}, []
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = h
                labels.append(label)
    if labels:
        if max(len(x) for x in labels) > 24:
            ncol = 1
        fig.legend([handles[x] for x in labels], labels, loc="outside lower center", ncol=ncol, frameon=False,
                   title=title)
