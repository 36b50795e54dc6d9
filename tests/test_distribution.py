"""The distribution section of a critic ablation (harness.analysis.distribution) held against scipy and numpy on a
constructed run: per (caption, seed) quantile shifts and Wasserstein-1 of every critic, fronts whose dominance is
known by construction, and the summaries over captions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.analysis import distribution
from harness.rundir.archive import final_populations

CRITICS = ["text_image", "image_real"]


def constructed_archive(captions: int = 8, seeds: int = 2, population: int = 12) -> pd.DataFrame:
    """Two generations per job; the variant's populations drawn from shifted, wider distributions."""
    rng = np.random.default_rng(7)
    rows = []
    for c in range(captions):
        for s in range(seeds):
            for method, shift, scale in (("full", 0.0, 1.0), ("full-without-image_real", 0.3, 1.5)):
                for generation in (0, 1):
                    for i in range(population):
                        rows.append({"caption_id": f"c{c}", "seed": s, "method": method, "generation": generation,
                                     "individual": i, "top_class": int(rng.integers(0, 5)),
                                     "text_image": rng.normal(shift + 0.1 * c, scale),
                                     "image_real": rng.gamma(2.0 + shift, scale)})
    return pd.DataFrame(rows)


def test_quantile_shifts_and_wasserstein_equal_scipy_per_caption_and_seed():
    archive = constructed_archive()
    finals = final_populations(archive)
    rows = distribution.job_rows(finals, "full", "full-without-image_real", CRITICS, CRITICS,
                                 {c: True for c in CRITICS})
    assert len(rows) == 8 * 2
    last = archive[archive["generation"] == 1]
    for row in rows:
        cell = last[(last["caption_id"] == row["caption_id"]) & (last["seed"] == row["seed"])]
        a, b = (cell[cell["method"] == m] for m in ("full-without-image_real", "full"))
        for critic in CRITICS:
            x, y = a[critic].to_numpy(), b[critic].to_numpy()
            assert row[f"{critic}|w1"] == pytest.approx(stats.wasserstein_distance(x, y), abs=1e-12)
            for q in (10, 50, 90):
                assert row[f"{critic}|q{q}"] == pytest.approx(np.percentile(x, q) - np.percentile(y, q), abs=1e-12)
        assert row["classes_variant"] == a["top_class"].nunique() and row["classes_full"] == b["top_class"].nunique()


def test_the_summary_over_captions_is_the_mean_of_caption_means_with_an_interval_and_a_test():
    from types import SimpleNamespace

    finals = final_populations(constructed_archive())
    rows = distribution.job_rows(finals, "full", "full-without-image_real", CRITICS, CRITICS,
                                 {c: True for c in CRITICS})
    summary = distribution.summarise(rows, CRITICS, SimpleNamespace(bootstrap=500, confidence=0.95))
    table = pd.DataFrame(rows)
    for critic in CRITICS:
        expected = table.groupby("caption_id")[f"{critic}|q50"].mean()
        entry = summary["critics"][critic]["q50"]
        assert entry["value"] == pytest.approx(expected.mean(), abs=1e-12)
        assert entry["captions"] == 8 and entry["seeds"] == 2
        lo, hi = entry["interval"]
        assert lo <= entry["value"] <= hi
        assert entry["p_value"] == pytest.approx(stats.wilcoxon(expected.to_numpy()).pvalue, abs=1e-12)
        w1 = summary["critics"][critic]["w1"]
        assert w1["value"] == pytest.approx(table.groupby("caption_id")[f"{critic}|w1"].mean().mean(), abs=1e-12)
        assert "p_value" not in w1  # a distance: its interval only
    assert set(summary["front"]) == {"hypervolume", "dominated_share"}
    assert len(distribution.tested_entries(summary)) == 2 * 3 + 2 + 1  # quantiles, front, classes (no embeddings)


def test_fronts_with_a_known_answer():
    full = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    better = full + 0.25  # every point of the variant dominates the matching point of the full method
    f = distribution.fronts(better, full, [True, True])
    assert f["full_front_dominated"] == 1.0 and f["variant_front_dominated"] == 0.0
    assert f["hv_variant"] > f["hv_full"]
    same = distribution.fronts(full, full, [True, True])
    assert same["hv_variant"] == same["hv_full"] and same["full_front_dominated"] == 0.0
    lower = distribution.fronts(-better, -full, [False, False])  # lower is better: the same answer
    assert lower["full_front_dominated"] == 1.0 and lower["hv_variant"] == pytest.approx(f["hv_variant"])


def test_diversity_is_the_mean_pairwise_distance_of_unit_embeddings():
    from scipy.spatial.distance import pdist

    e = np.random.default_rng(0).normal(size=(10, 6))
    unit = e / np.linalg.norm(e, axis=1, keepdims=True)
    assert distribution.mean_pairwise_distance(e * 3.0) == pytest.approx(pdist(unit).mean())
    assert distribution.mean_pairwise_distance(e[:1]) is None
