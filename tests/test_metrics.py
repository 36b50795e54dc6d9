"""Metrics: known answers (FID closed form, KID, CLIPScore, rank correlations, hypervolume), the paired
comparison of a method with itself, and metrics.json from a smoke run, recomputable."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import linalg, stats

from harness.cli.main import main
from harness.metrics import clipscore, correlations, fid
from harness.metrics.hypervolume import hypervolume
from harness.metrics.paired import compare_methods
from helpers import REPO


def closed_form_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_fid_matches_the_closed_form_for_gaussians():
    rng = np.random.default_rng(0)
    a = rng.multivariate_normal([0, 0, 0, 0], np.diag([1.0, 2.0, 0.5, 1.5]), size=3000)
    m = rng.standard_normal((4, 4))
    b = rng.multivariate_normal([1.0, -0.5, 0.3, 0.0], m @ m.T + np.eye(4), size=3000)
    expected = closed_form_fid(a, b)
    assert fid.fid_from_features(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(expected, rel=1e-6)


def test_fid_of_a_set_with_itself_is_zero_and_never_negative_or_complex():
    rng = np.random.default_rng(1)
    full = torch.from_numpy(rng.standard_normal((500, 8)))
    assert fid.fid_from_features(full, full) == pytest.approx(0.0, abs=1e-6)
    singular = torch.from_numpy(rng.standard_normal((6, 32)))  # 6 samples in 32-d: rank-deficient covariance
    value = fid.fid_from_features(singular, singular)
    assert isinstance(value, float) and 0.0 <= value < 1e-6
    low_rank = torch.from_numpy(rng.standard_normal((50, 2)) @ rng.standard_normal((2, 16)))
    assert fid.fid_from_features(low_rank, low_rank + 1e-9) >= 0.0


def test_kid_of_identical_sets_is_zero_and_subset_size_fits_small_n():
    rng = np.random.default_rng(2)
    feats = torch.from_numpy(rng.standard_normal((2000, 8)))
    mean, std, size = fid.kid_from_features(feats, feats, subset_size=100, subsets=50)
    shifted, _, _ = fid.kid_from_features(feats + 1.0, feats, subset_size=100, subsets=50)
    assert size == 100 and abs(mean) < 0.02 and shifted > 50 * abs(mean)
    small = torch.from_numpy(rng.standard_normal((12, 8)))
    _, _, size = fid.kid_from_features(small, small + 1.0, subset_size=50, subsets=10)
    assert size == 12  # lowered to fit N


def test_clipscore_of_hand_built_embeddings():
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    txt = torch.tensor([[1.0, 0.0], [0.0, -1.0], [1.0, 0.0]])
    per = clipscore.clipscore_per_image(img, txt)
    torch.testing.assert_close(per, torch.tensor([2.5, 0.0, 2.5 / np.sqrt(2)], dtype=torch.float64))
    assert per.mean().item() == pytest.approx((2.5 + 2.5 / np.sqrt(2)) / 3)  # clamped per image, then averaged


def test_rank_correlations_match_scipy():
    rng = np.random.default_rng(3)
    pop = pd.DataFrame(rng.standard_normal((30, 4)), columns=["text_image", "image_real", "region_word", "word_label"])
    pop["image_real"] += pop["text_image"]
    out = correlations.job_correlations(pop, n_resamples=100, confidence=0.95)
    x, y = pop["text_image"], pop["image_real"]
    assert out["spearman"]["text_image~image_real"]["value"] == pytest.approx(stats.spearmanr(x, y).statistic)
    assert out["kendall"]["text_image~image_real"]["value"] == pytest.approx(stats.kendalltau(x, y).statistic)
    lo, hi = out["spearman"]["text_image~image_real"]["interval"]
    assert lo <= out["spearman"]["text_image~image_real"]["value"] <= hi
    pop["word_label"] = 0.5
    assert correlations.job_correlations(pop, 50, 0.95)["kendall"]["text_image~word_label"]["value"] is None


def test_hypervolume_of_known_fronts():
    unit = [(0.0, 1.0)] * 2
    losses = np.array([[0.2, 0.6], [0.5, 0.3]])
    assert hypervolume(1 - losses, unit) == pytest.approx(0.45 + 0.48 - 0.30)
    four = [(0.0, 1.0)] * 4
    p = np.array([0.1, 0.2, 0.3, 0.4])
    q = np.array([0.4, 0.1, 0.2, 0.3])
    box = lambda x: np.prod(1.1 - x)  # noqa: E731
    exact = box(p) + box(q) - box(np.maximum(p, q))
    assert hypervolume(1 - np.stack([p, q]), four) == pytest.approx(exact)
    assert hypervolume(1 - np.stack([p, p + 0.05]), four) == pytest.approx(box(p))  # a dominated point adds nothing


def test_a_method_compared_with_itself_differs_by_exactly_zero():
    rng = np.random.default_rng(4)
    jobs = pd.DataFrame({"method": "a", "caption_id": [f"c{i}" for i in range(8)], "seed": 0,
                         "text_image": rng.random(8)})
    both = pd.concat([jobs, jobs.assign(method="b")])
    out = compare_methods(both, ["text_image"], "a", "b", 200, 0.95, {"text_image": True})["text_image"]
    assert out["value"] == 0.0 and out["interval"] == [0.0, 0.0] and out["p_value"] == 1.0
    assert out["note"] == "no difference" and out["n"] == 8 and out["seeds"] == 1


def test_smoke_run_writes_metrics_json(smoke_run):
    out, _ = smoke_run
    m = json.loads((out / "metrics.json").read_text())
    assert m["schema_version"] == 2 and m["evaluator"]["same_model"] is False  # the tiny profile's own judge
    methods = ["no_selection", "best_of_n", "clip_single", "four_objective"]
    assert list(m["methods"]) == methods
    for method in methods:
        entry = m["methods"][method]
        for key in ("text_image", "image_real", "region_word", "word_label", "clipscore", "clipscore_search_model"):
            assert {"value", "n", "interval", "higher_is_better", "unit", "captions", "seeds"} <= set(entry[key])
            assert (entry[key]["unit"], entry[key]["captions"], entry[key]["seeds"]) == ("caption", 3, 1)
        assert entry["clipscore"]["n"] == 3 and 0 <= entry["clipscore"]["value"] <= 2.5
        for which, n in (("selected", 3), ("population", 3 if method == "no_selection" else 3 * 16)):
            fk = m["fid_kid"]["methods"][method][which]
            assert fk["fid"]["n"] == n and fk["fid"]["value"] >= 0 and fk["fid"]["higher_is_better"] is False
            assert fk["kid"]["subset_size"] <= n and "std" in fk["kid"]
    assert set(m["correlations"]["four_objective"]["mean"]["spearman"]) == set(correlations.pairs(
        ["text_image", "image_real", "region_word", "word_label"]))
    hv = m["convergence"]["four_objective"]["hypervolume"]["mean"]
    assert len(hv) == 12 and hv[-1] >= hv[0]
    assert len(m["convergence"]["clip_single"]["best_text_image"]["mean"]) == 12
    assert len(m["paired"]) == 6 and m["paired"][-1]["a"] == "four_objective"
    assert m["paired"][-1]["metrics"]["clipscore"]["n"] == 3


def test_metrics_command_recomputes_the_same_numbers(smoke_run, tmp_path):
    out, ref = smoke_run
    before = json.loads((out / "metrics.json").read_text())
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "metrics.json").unlink()
    assert main(["metrics", str(copy), "--reference", str(ref)]) == 0
    after = json.loads((copy / "metrics.json").read_text())
    for key in ("methods", "fid_kid", "correlations", "convergence", "paired"):
        a, b = json.dumps(before[key], sort_keys=True), json.dumps(after[key], sort_keys=True)
        assert a.replace(str(out), "X") == b.replace(str(copy), "X"), key


@pytest.mark.slow
def test_no_reference_skips_fid_with_a_note(tmp_path):
    from helpers import make_suite

    suite = make_suite(tmp_path / "s")
    assert main(["run", str(suite), "--out", str(tmp_path / "r")]) == 0
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert "skipped" in m["fid_kid"] and "metrics.reference" in m["fid_kid"]["skipped"]


def test_numbers_that_cannot_be_trusted_say_so(smoke_run):
    """N = 3 selected images against the feature width: FID marked; N = 3 pairs: the p floor stated;
    every paired p adjusted for the number of tests, the correction named."""
    out, _ = smoke_run
    m = json.loads((out / "metrics.json").read_text())
    fid = m["fid_kid"]["methods"]["four_objective"]["selected"]["fid"]
    assert fid["n"] == 3 and fid["feature_dim"] > 3 and fid["reliable"] is False and "equal N" in fid["note"]
    entries = [e for comp in m["paired"] for e in comp["metrics"].values()]
    assert all(e["p_floor"] == 0.25 for e in entries if e["captions"] == 3)
    tested = [e for e in entries if e["p_value"] == e["p_value"]]
    assert tested and all(e["p_adjusted"] >= e["p_value"] - 1e-12 and "Benjamini-Hochberg" in e["correction"]
                          for e in tested)
    report = (out / "report.md").read_text()
    assert "smallest p-value the Wilcoxon test over captions can reach is 0.5" in report  # geneval: 2 captions
    assert "† FID on N = 3 images" in report and "Adjusted p: Benjamini-Hochberg" in report
    assert m["convergence"]["four_objective"]["hypervolume"]["band"].startswith("interquartile")


def test_wilcoxon_floor_is_what_scipy_reaches():
    from scipy import stats as sps

    from harness.metrics.stats import wilcoxon_floor

    for n in (3, 5, 8):
        assert sps.wilcoxon(np.arange(1, n + 1, dtype=float)).pvalue == pytest.approx(wilcoxon_floor(n))


def test_compare_leaves_out_an_fid_of_another_n_with_one_line(smoke_run, tmp_path, capsys):
    out, _ = smoke_run
    other = tmp_path / "other"
    shutil.copytree(out, other)
    metrics = json.loads((other / "metrics.json").read_text())
    metrics["fid_kid"]["methods"]["clip_single"]["selected"]["fid"]["n"] = 6  # as if it had more seeds
    (other / "metrics.json").write_text(json.dumps(metrics))
    capsys.readouterr()
    assert main(["compare", str(out), str(other), "--out", str(tmp_path / "cmp")]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "FID of" in line]
    assert len(notes) == 1 and "clip_single" in notes[0] and "N = 6" in notes[0] and "N = 3" in notes[0]
    result = json.loads((tmp_path / "cmp" / "compare.json").read_text())[0]
    assert "clip_single" not in result["fid"] and result["fid"]["four_objective"]["fid"] == pytest.approx(0.0)
    assert result["methods"]["clip_single"]["text_image"]["n"] == 3  # the rest of the comparison went ahead


def test_reference_build_from_sample_photos_serves_fid_and_refuses_other_features(smoke_run, tmp_path, capsys):
    """The probe photos are scikit-image's sample photos (resized): a small reference a user can have."""
    photos = tmp_path / "photos"
    shutil.copytree(REPO / "harness" / "probe" / "photos", photos)
    ref = tmp_path / "ref.npz"
    assert main(["reference", "build", str(photos), "--features", "tiny", "--out", str(ref)]) == 0
    data = np.load(ref)
    assert data["features"].shape == (3, 32) and str(data["extractor"]) == "tiny-clip" and int(data["n"]) == 3
    run = tmp_path / "run"
    shutil.copytree(smoke_run[0], run)
    assert main(["metrics", str(run), "--reference", str(ref)]) == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["fid_kid"]["reference"] == str(ref) and m["fid_kid"]["methods"]["best_of_n"]["selected"]["fid"]["n"] == 3
    other = tmp_path / "clip.npz"
    assert main(["reference", "build", str(photos), "--features", "clip", "--models", "tiny", "--out", str(other)]) == 0
    before = (run / "metrics.json").read_bytes()
    capsys.readouterr()
    assert main(["metrics", str(run), "--reference", str(other)]) == 2
    assert "holds features of clip:" in capsys.readouterr().err and (run / "metrics.json").read_bytes() == before


def test_kendalls_w_known_answers():
    from harness.metrics.agreement import kendalls_w

    same = np.array([[3.0, 2.0, 1.0], [0.9, 0.5, 0.1], [30, 20, 10]])
    assert kendalls_w(same) == pytest.approx(1.0)
    # by hand: ranks (1,2,3), (1,3,2), (2,1,3) -> rank sums 4, 6, 8; mean 6; S = 4 + 0 + 4 = 8;
    # W = 12 * 8 / (3^2 * (3^3 - 3)) = 96 / 216
    table = np.array([[3.0, 2.0, 1.0], [3.0, 1.0, 2.0], [2.0, 3.0, 1.0]])
    assert kendalls_w(table) == pytest.approx(96 / 216)
    opposite = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]])
    assert kendalls_w(opposite) == pytest.approx(0.0)


def test_the_report_says_whether_the_judges_agree(smoke_run):
    out, _ = smoke_run
    m = json.loads((out / "metrics.json").read_text())
    a = m["agreement"]
    assert a["judges"] == ["text_image", "image_real", "region_word", "word_label", "clipscore", "pickscore", "hpsv2",
                           "geneval"]
    assert set(a["ranking"]) == set(a["judges"]) and all(len(r) == 4 for r in a["ranking"].values())
    assert 0 <= a["kendalls_w"]["value"] <= 1 and a["kendalls_w"]["n"] == 3
    assert "## Do the judges agree?" in (out / "report.md").read_text()


def test_correlation_intervals_equal_scipy_per_resample():
    """The correlation intervals from resample counts equal scipy's bootstrap of spearmanr/kendalltau
    computed resample by resample (same seed, same resamples), ties included, to 1e-9."""
    from scipy import stats

    from harness.metrics.correlations import correlation_interval
    from harness.metrics.stats import bootstrap_interval

    rng = np.random.default_rng(3)
    scipy_fn = {"kendall": lambda u, v: stats.kendalltau(u, v).statistic,
                "spearman": lambda u, v: stats.spearmanr(u, v).statistic}
    for _ in range(5):
        x = np.round(rng.normal(size=40), 1)
        y = np.round(x + rng.normal(size=40), 1)
        for kind, fn in scipy_fn.items():
            ours = correlation_interval(kind, x, y, 300, 0.95, seed=7)
            theirs = bootstrap_interval((x, y), fn, 300, 0.95, seed=7, paired=True)
            np.testing.assert_allclose(ours, theirs, atol=1e-9, rtol=0)
