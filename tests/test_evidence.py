"""The caption is the unit of evidence: cluster-bootstrap intervals and tests over captions (known answers
against scipy), Kendall's W with the tie correction, missing judge scores dropped, FID reliability at
N <= d, power and the minimum detectable effect."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from harness.metrics import evidence, power
from harness.metrics.agreement import agreement, kendalls_w


class Cfg:
    bootstrap = 1000
    confidence = 0.95


def table(values: np.ndarray, method: str = "a") -> pd.DataFrame:
    """values [C, S] -> a job table (caption_id, seed, method, v)."""
    C, S = values.shape
    return pd.DataFrame({"method": method, "caption_id": [f"c{c}" for c in range(C) for _ in range(S)],
                         "seed": [s for _ in range(C) for s in range(S)], "v": values.ravel()})


def test_differences_that_vary_only_between_captions_count_as_six_observations_not_thirty():
    """6 captions x 5 seeds, every seed of a caption identical: the interval and p are exactly those of the
    6 caption means (scipy's bootstrap and Wilcoxon on them), not of the 30 values."""
    rng = np.random.default_rng(0)
    means = rng.normal(0.3, 1.0, size=6)
    a = np.repeat(means[:, None], 5, axis=1)
    frame_a, frame_b = table(a, "a"), table(np.zeros_like(a), "b")
    design = evidence.Design.of(frame_a)
    entry = evidence.paired_entry(design.matrix(frame_a, "v"), design.matrix(frame_b, "v"), design, 1000, 0.95)
    theirs = stats.bootstrap((means,), np.mean, n_resamples=1000, confidence_level=0.95, method="percentile",
                             random_state=np.random.default_rng(0)).confidence_interval
    np.testing.assert_allclose(entry["interval"], [theirs.low, theirs.high], atol=1e-12, rtol=0)
    assert entry["value"] == pytest.approx(means.mean(), abs=1e-12)
    assert entry["p_value"] == pytest.approx(stats.wilcoxon(means, zero_method="zsplit").pvalue, abs=1e-12)
    assert entry["p_floor"] == pytest.approx(2 / 2 ** 6)
    assert (entry["captions"], entry["seeds"], entry["n"], entry["unit"]) == (6, 5, 30, "caption")
    job_level = stats.bootstrap((a.ravel(),), np.mean, n_resamples=1000, method="percentile",
                                random_state=np.random.default_rng(0)).confidence_interval
    assert job_level.high - job_level.low < 0.6 * (entry["interval"][1] - entry["interval"][0])  # jobs: too narrow


def test_a_paired_comparison_over_partis_1632_captions_has_a_p_value_and_a_floor():
    """Found running suites/parti: the floor 2 / 2**n overflowed a float from 1,024 captions on."""
    rng = np.random.default_rng(1)
    a = rng.normal(0.1, 1.0, size=(1632, 1))
    frame_a, frame_b = table(a, "a"), table(np.zeros_like(a), "b")
    design = evidence.Design.of(frame_a)
    entry = evidence.paired_entry(design.matrix(frame_a, "v"), design.matrix(frame_b, "v"), design, 200, 0.95)
    assert entry["p_floor"] == 0.0 and entry["captions"] == 1632
    assert entry["p_value"] == pytest.approx(stats.wilcoxon(a.ravel(), zero_method="zsplit").pvalue, abs=1e-12)


def test_independent_seeds_around_a_caption_effect_widen_the_cluster_interval():
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1.0, size=(6, 1)) + rng.normal(0, 0.5, size=(6, 5))
    frame = table(values)
    design = evidence.Design.of(frame)
    ours = evidence.describe(design.matrix(frame, "v"), design, 1000, 0.95)["interval"]
    jobs = stats.bootstrap((values.ravel(),), np.mean, n_resamples=1000, method="percentile",
                           random_state=np.random.default_rng(0)).confidence_interval
    assert ours[1] - ours[0] > 1.5 * (jobs.high - jobs.low)


def test_two_stage_resamples_draw_seeds_within_each_drawn_caption():
    frame = table(np.arange(12.0).reshape(4, 3))
    frame = frame[~((frame["caption_id"] == "c3") & (frame["seed"] > 0))]  # c3 has one seed only
    design = evidence.Design.of(frame)
    draws = design.resamples(50, 3)
    assert draws.captions.shape == (50, 4) and draws.seeds.shape == (50, 4, 3)
    for b in range(50):
        for j, c in enumerate(draws.captions[b]):
            cols = draws.seeds[b, j][draws.valid[b, j]]
            assert len(cols) == design.counts[c] and design.present[c, cols].all()


def test_kendalls_w_is_tie_corrected():
    assert kendalls_w(np.array([[3, 2, 2, 0]] * 3)) == pytest.approx(1.0, abs=1e-12)
    assert kendalls_w(np.array([[3, 2, 1, 0], [3, 2, 1, 0], [1, 1, 1, 1]])) == pytest.approx(2 / 3, abs=1e-12)
    # by hand, with ties: judges rank 3 methods (1, 2.5, 2.5), (1, 2, 3), (2, 1, 3); rank sums 4, 5.5, 8.5,
    # mean 6: S = 4 + 0.25 + 6.25 = 10.5; ties: the first judge has one pair, T = 2^3 - 2 = 6;
    # W = 12 * 10.5 / (3^2 * (3^3 - 3) - 3 * 6) = 126 / 198
    scores = np.array([[3.0, 1.0, 1.0], [3.0, 2.0, 1.0], [2.0, 3.0, 1.0]])
    assert kendalls_w(scores) == pytest.approx(126 / 198, abs=1e-12)
    assert kendalls_w(np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]])) == pytest.approx(0.0, abs=1e-12)


def test_agreement_leaves_missing_judge_scores_out_instead_of_counting_zero():
    rng = np.random.default_rng(2)
    rows = []
    for m, shift in (("a", 0.0), ("b", 0.3), ("c", 0.6)):
        for c in range(8):
            for s in range(2):
                rows.append({"method": m, "caption_id": f"c{c}", "seed": s,
                             **{j: 5 + shift * (k + 1) + rng.normal() for k, j in enumerate(("j1", "j2", "j3"))}})
    jobs = pd.DataFrame(rows)
    missing = (jobs["method"] == "b") & jobs["caption_id"].isin(["c1", "c4"]) & (jobs["seed"] == 1)
    with_nan = jobs.copy()
    with_nan.loc[missing, ["j1", "j2", "j3"]] = np.nan
    judges, directions = ["j1", "j2", "j3"], {}
    a = agreement(with_nan, judges, directions, Cfg)["kendalls_w"]
    b = agreement(jobs[~missing], judges, directions, Cfg)["kendalls_w"]
    assert a["value"] == pytest.approx(b["value"], abs=1e-12)
    np.testing.assert_allclose(a["interval"], b["interval"], atol=1e-12)
    zeroed = jobs.copy()
    zeroed.loc[missing, ["j1", "j2", "j3"]] = 0.0
    z = agreement(zeroed, judges, directions, Cfg)["kendalls_w"]  # zeros pull method b down: another answer
    assert (z["value"], z["interval"]) != (a["value"], a["interval"])


def test_fid_needs_more_images_than_dimensions_on_both_sides():
    from harness.metrics.fid import fid_reliability

    assert fid_reliability(32, 32)["reliable"] is False  # N = d: a covariance of N points has rank N - 1
    assert fid_reliability(33, 32)["reliable"] is True
    small_ref = fid_reliability(100, 32, n_reference=16)
    assert small_ref["reliable"] is False and small_ref["reference_reliable"] is False
    assert "reference set" in small_ref["note"]


def test_minimum_detectable_effect_and_captions_needed_agree():
    sd = 0.1
    mde = power.minimum_detectable_effect(sd, 20)
    assert power.wilcoxon_power(mde, sd, 20) == pytest.approx(0.8, abs=1 / power.SIMULATIONS)
    assert power.captions_needed(mde * 1.0001, sd) == 20 and power.captions_needed(mde * 0.97, sd) > 20
    assert power.minimum_detectable_effect(sd, 5) is None  # the Wilcoxon test cannot reach 0.05 below 6
    assert power.wilcoxon_min_captions(0.05) == 6 and power.captions_needed(10.0, sd) == 6
    # the Wilcoxon needs about pi/3 times the normal approximation's n = ((z_a/2 + z_b) sd / d)^2
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert power.captions_needed(0.01, sd) == pytest.approx((z * sd / 0.01) ** 2 / power.ARE, rel=0.01)


def test_the_wilcoxon_power_is_its_own_not_the_t_tests():
    """At 6 captions the exact test rejects only when all six differences share a sign: its power is
    Phi(d)^6 + Phi(-d)^6, 0.62 at the t-test's detectable effect, and the stated effect reaches 0.8."""
    t_mde = optimize.brentq(lambda e: power.t_power(e, 1.0, 6) - 0.8, 0.0, 50.0)
    exact = lambda d: stats.norm.cdf(d) ** 6 + stats.norm.cdf(-d) ** 6  # noqa: E731
    assert exact(t_mde) == pytest.approx(0.62, abs=0.01)
    assert power.wilcoxon_power(t_mde, 1.0, 6) == pytest.approx(exact(t_mde), abs=0.01)
    mde = power.minimum_detectable_effect(1.0, 6)
    assert exact(mde) == pytest.approx(0.8, abs=0.01) and mde > t_mde * 1.2


def test_the_critical_values_reject_exactly_when_scipys_exact_test_does():
    rng = np.random.default_rng(4)
    for n in (6, 7, 12, 25, 50):
        low, high = power.wilcoxon_critical(n)
        x = rng.normal(0.3, 1.0, size=(400, n))
        ranks = stats.rankdata(np.abs(x), axis=1)
        w_plus = (ranks * (x > 0)).sum(axis=1)
        ours = (w_plus <= low) | (w_plus >= high)
        assert np.array_equal(ours, stats.wilcoxon(x, axis=1).pvalue < 0.05), n


@pytest.mark.parametrize("n", [6, 10, 20, 50, 51, 120, 553, 1632])
def test_power_equals_a_simulation_of_the_answers_test(n):
    """Power against the rejection rate of scipy.stats.wilcoxon (the answer's test) on simulated normal
    caption differences, over effects from barely to surely detectable."""
    rng = np.random.default_rng(n)
    for c in (1.0, 2.5, 4.0):
        effect = c / np.sqrt(n)
        x = rng.normal(effect, 1.0, size=(2000, n))
        simulated = float(np.mean(stats.wilcoxon(x, axis=1).pvalue < 0.05))
        assert power.wilcoxon_power(effect, 1.0, n) == pytest.approx(simulated, abs=0.035), (n, c)


def test_power_is_a_number_from_two_to_100000_captions_at_any_effect():
    for n in (2, 3, 5, 6, 9, 30, 50, 51, 80, 553, 1632, 10_000, 100_000):
        for effect in (0.0, 1e-4, 0.01, 0.1, 1.0, 10.0, 1e3):
            p = power.wilcoxon_power(effect, 1.0, n)
            assert 0.0 <= p <= 1.0, (n, effect, p)
            t = power.t_power(effect, 1.0, n)
            assert 0.0 <= t <= 1.0, (n, effect, t)
        mde = power.minimum_detectable_effect(1.0, n)
        assert (mde is None) == (n < 6)
        if mde is not None:
            assert power.wilcoxon_power(mde, 1.0, n) >= 0.8 - 1e-9
    assert power.wilcoxon_power(10.0, 1.0, 100_000) == 1.0 and power.t_power(1e3, 1.0, 553) == 1.0
    assert power.minimum_detectable_effect(1.0, 100_000) == pytest.approx(
        (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) / np.sqrt(100_000 * power.ARE), rel=1e-3)


def test_variance_components_separate_seeds_from_captions():
    rng = np.random.default_rng(3)
    d = rng.normal(0, 2.0, size=(400, 1)) + rng.normal(0, 1.0, size=(400, 4))
    parts = power.variance_components(d)
    assert parts["within"] == pytest.approx(1.0, rel=0.1) and parts["between"] == pytest.approx(4.0, rel=0.2)
    assert power.caption_sd(parts, 100) < power.caption_sd(parts, 1)


def _intervals(obj, path=""):
    """(path, entry) for every metrics.json number that carries an interval."""
    if isinstance(obj, dict):
        if obj.get("interval") is not None and "value" in obj:
            yield path, obj
        for k, v in obj.items():
            yield from _intervals(v, f"{path}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _intervals(v, f"{path}[{i}]")


def test_every_interval_names_its_unit_and_counts(smoke_run):
    import json

    m = json.loads((smoke_run[0] / "metrics.json").read_text())
    entries = list(_intervals(m))
    assert len(entries) > 100
    for path, e in entries:
        assert e.get("unit") in ("caption", "individual") and "captions" in e and "seeds" in e, path
        assert e["unit"] == "caption" or "/correlations/" in path, path


def test_the_smoke_report_opens_with_the_answer_and_what_it_could_detect(smoke_run):
    out, _ = smoke_run
    report = (out / "report.md").read_text()
    sections = [line for line in report.splitlines() if line.startswith("## ")]
    assert sections[0] == "## Answer"
    answer = report.split("## Answer", 1)[1].split("\n## ", 1)[0]
    assert "N = 3 captions × 1 seeds" in answer and "clipscore none (3 captions)" in answer
    assert "needs at least 6 captions to reach p < 0.05" in answer
    assert "carry no meaning about image quality" in report.split("## Answer")[0]  # tiny: said at the top


@pytest.mark.slow
def test_a_two_seed_run_answers_with_the_smallest_detectable_effect(tmp_path):
    import json

    from harness.cli.main import main
    from helpers import make_suite

    captions = [{"id": f"c{i}", "caption": text} for i, text in enumerate(
        ["a cat is lay on the table.", "skyline at sunset.", "a red bus on the road.", "a dog on the grass.",
         "a bowl of fruit.", "a boat on the lake.", "a bird on a branch."])]
    suite = make_suite(tmp_path / "s", caption_list=captions, seeds=[0, 1],
                       metrics={"fid_features": "tiny", "bootstrap": 100},
                       overrides={"search.population": 4, "search.offspring": 4, "search.generations": 2})
    assert main(["run", str(suite), "--out", str(tmp_path / "r")]) == 0
    report = (tmp_path / "r" / "report.md").read_text()
    assert [line for line in report.splitlines() if line.startswith("## ")][0] == "## Answer"
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    comp = m["answer"]["comparisons"][0]
    assert (comp["method"], comp["control"]) == ("four_objective", "clip_single")
    for judge, e in comp["judges"].items():
        assert (e["captions"], e["seeds"]) == (7, 2) and e["mde"] is not None and e["mde"] > 0, judge
    assert "N = 7 captions x 2 seeds" in comp["sentence"]
    if all(e["verdict"] == "no difference detectable" for e in comp["judges"].values()):
        assert "smallest differences this run could detect" in comp["sentence"]


@pytest.mark.slow
def test_power_prints_the_table_and_compare_refuses_fids_of_other_references(smoke_run, tmp_path):
    """Through the installed console script: `harness power` on the smoke run, and `harness compare` of two runs
    whose FIDs were computed against different reference sets: no FID difference, and the reason."""
    import json
    import os
    import shutil
    import subprocess

    from helpers import console_script

    out, _ = smoke_run
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "250"}
    proc = subprocess.run([console_script(), "power", str(out), "--seeds", "3"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "captions needed" in proc.stdout and "four_objective − best_of_n" in proc.stdout
    assert "assumed test: two-sided Wilcoxon signed-rank test" in proc.stdout
    other = tmp_path / "other"
    shutil.copytree(out, other)
    metrics = json.loads((other / "metrics.json").read_text())
    metrics["fid_kid"]["reference_sha256"] = "0" * 64  # as if computed against another reference set
    (other / "metrics.json").write_text(json.dumps(metrics))
    proc = subprocess.run([console_script(), "compare", str(out), str(other), "--out", str(tmp_path / "cmp")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "FID/KID not compared: the runs used different reference sets" in proc.stderr
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())[0]["fid"] == {}


def test_resamples_computed_a_block_at_a_time_equal_one_gather(monkeypatch):
    """resampled() bounds what it gathers at once (it held [judges, methods, B, C, S] several times: 1.3 GiB of
    agreement at Parti's 1,632 captions); every block size gives the same numbers, missing cells included."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(4, 3, 40, 3))
    values[0, 0, 3, 1] = np.nan
    frame = table(values[0, 0])
    draws = evidence.Design.of(frame).resamples(500)
    gathered = values[..., draws.captions[..., None], draws.seeds]
    whole = evidence.point(np.where(draws.valid, gathered, np.nan))
    for elements in (1, 1000, 1 << 22):
        monkeypatch.setattr(evidence, "GATHER_ELEMENTS", elements)
        np.testing.assert_array_equal(evidence.resampled(values, draws), whole)
