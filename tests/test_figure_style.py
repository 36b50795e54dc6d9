"""Every report figure in one style, legible at a paper's column width: 8.5 cm wide, no text under 7 pt there,
saved as a 300-dpi PNG and an SVG with its text kept as text (read back from the files themselves); legends inside
or below the axes; whole-number generation ticks."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from harness.report import ablation_figures, figures, style


def measured(svg_path) -> tuple[float, list[float]]:
    """(width in cm, every font size in pt) of a saved SVG (matplotlib writes 1 px = 1 pt)."""
    text = svg_path.read_text()
    width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', text).group(1))
    sizes = [float(x) for x in re.findall(r"font-size:\s*([\d.]+)px", text)]
    return width_pt / 72 * 2.54, sizes


def curve(n: int, generations: int = 3) -> dict:
    mean = np.linspace(0.2, 0.4, generations)
    return {"mean": list(mean), "lo": list(mean - 0.05), "hi": list(mean + 0.05), "n": n, "band": "interquartile range"}


def cases(tmp_path):
    rng = np.random.default_rng(0)
    methods = ["no_selection", "best_of_n", "clip_single", "four_objective"]
    table = pd.DataFrame([{"method": m, "t": t, **{f"{c}_{k}": v for c in ("clipscore", "image_real")
                                                     for k, v in (("mean", 0.5), ("lo", 0.4), ("hi", 0.6))}}
                          for m in methods for t in ("0.5", "1", "2")])
    png = tmp_path / "img.png"
    Image.fromarray((rng.random((32, 32, 3)) * 255).astype(np.uint8)).save(png)
    labels = ["full", "− text_image", "− image_real", "− region_word", "− word_label"]
    critics = ["text_image", "image_real", "region_word", "word_label"]
    entry = {"value": 0.01, "interval": [-0.01, 0.03]}
    return {
        "convergence": figures.curves({m: curve(12) for m in methods}, "hypervolume (first front)",
                                      "hypervolume per generation"),
        "heatmap": figures.heatmap(rng.uniform(-1, 1, (4, 4)), critics, "four_objective: mean Spearman over jobs"),
        "judges": figures.judge_panel({m: {j: {"value": 0.1, "interval": [0, 0.2]} for j in critics} for m in methods},
                                      critics, "methods x judges: mean z-score"),
        "variants": figures.curves({m: curve(3) for m in ["four_objective", "four_objective-without-text_image",
                                                           "four_objective-without-region_word"]},
                                   "best text_image", "best text_image per generation"),
        "sweep": figures.value_plot(table, "t", ["clipscore", "image_real"], "selected images: mean [95 % CI]"),
        "population": ablation_figures.population_scores(
            {label: {c: rng.normal(size=100) for c in critics} for label in labels}, critics,
            "a cat is lay on the table. (seed 0)"),
        "effects": ablation_figures.paired_effects(
            [(m, rng.normal(size=553) * 0.01, entry) for m in ["clipscore", "pickscore", "hpsv2", *critics]],
            "− image_real: effect per caption"),
        "strip": ablation_figures.strip([(label, png) for label in ["without search", *labels, "best_of_n"]],
                                        "a cat is lay on the table. (clipscore 0.61)"),
    }


def test_every_figure_is_a_column_wide_with_legible_text_in_png_and_svg(tmp_path):
    for name, fig in cases(tmp_path).items():
        fig.canvas.draw()
        inside = fig.bbox.expanded(1.0, 1.0)
        for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
            box = legend.get_window_extent()
            assert box.x0 >= inside.x0 - 1 and box.x1 <= inside.x1 + 1 and box.y0 >= inside.y0 - 1, name  # not cut
        path = figures.save(fig, tmp_path / f"{name}.png", svg=True)
        width_cm, sizes = measured(path.with_suffix(".svg"))
        assert width_cm == pytest.approx(style.COLUMN_CM, abs=0.01), name
        assert sizes and min(sizes) >= style.MIN_FONT_PT, (name, min(sizes))
        with Image.open(path) as im:
            assert im.size[0] == pytest.approx(style.COLUMN_CM / 2.54 * style.PRINT_DPI, abs=2), name
            assert im.info["dpi"][0] == pytest.approx(style.PRINT_DPI, abs=0.1)
            assert im.size[1] < 3 * im.size[0], name  # a column figure, not a ribbon


def test_variants_of_a_method_never_share_a_colour():
    methods = ["four_objective", "four_objective-without-text_image", "four_objective-without-image_real",
               "best_of_n", "no_selection", "four_objective-with-colorfulness"]
    colors = figures.method_colors(methods)
    assert len(set(colors.values())) == len(methods) and colors["four_objective"] == figures.METHOD_COLORS["four_objective"]


def test_convergence_has_whole_generations_and_its_legend_below_the_axes(tmp_path):
    fig = figures.curves({m: curve(553, generations=2) for m in ["best_of_n", "clip_single", "four_objective"]},
                         "hypervolume (first front)", "hypervolume per generation")
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)  # never generation 0.5
    legend = fig.legends[0].get_window_extent()
    axes = ax.get_window_extent()
    assert legend.y1 <= axes.y0  # below the plot, taking none of its width
    assert axes.width > 0.7 * fig.bbox.width


def test_han_characters_and_emoji_in_a_title_draw_without_warnings(tmp_path):
    """A caption in any script: each glyph the installed fonts draw is kept (CJK fonts, when installed, are
    fallbacks), any other is a square; matplotlib prints no 'Glyph missing' warning."""
    import warnings

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("一只猫躺在桌子上 a cat 🐱")
    ax.plot([0, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures.save(fig, tmp_path / "han.png", svg=True)
    assert not [w for w in caught if "Glyph" in str(w.message)]
    shown = json.loads(Image.open(tmp_path / "han.png").text["panels"])[0]["title"]
    assert shown.endswith(" a cat " + ("🐱" if ord("🐱") in style.covered() else style.MISSING))
    assert all(c == style.MISSING or ord(c) in style.covered() for c in shown[:8])
