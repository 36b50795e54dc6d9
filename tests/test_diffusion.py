"""Diffusion generators: the image is a deterministic function of the noise genome, the noise operators keep
N(0, I) where pymoo's SBX/PM do not, zero-order search spends the same budget, the tiny pipeline runs the smoke
suite and resumes after kill -9 to the same archive, and `harness search` stores re-decodable noise."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from helpers import REPO, console_script

TINY = ["--set", "search.population=4", "--set", "search.offspring=4", "--set", "search.generations=2"]


def evolve(gaussian: bool, generations: int = 50, population: int = 100, genes: int = 256, seed: int = 0):
    """Selection-free evolution: every generation random pairs mate (crossover), every child mutates, the children
    replace the population. The operators are harness.search.operators on one block of N(0, I) genes (gaussian)
    or pymoo's SBX and PM with the method defaults on the same genes within +-8."""
    from pymoo.core.population import Population
    from pymoo.core.problem import Problem

    from harness.config.schema import MethodConfig
    from harness.generators.class_genome import Block
    from harness.search.operators import make_operators

    rng = np.random.default_rng(seed)
    crossover, mutation = make_operators(MethodConfig(name="m", algorithm="nsga2", objectives=["a", "b"]),
                                         [Block("noise", 0, genes, gaussian=gaussian)])
    problem = Problem(n_var=genes, xl=-8.0, xu=8.0)
    X = rng.standard_normal((population, genes))
    for _ in range(generations):
        children = crossover.do(problem, Population.new(X=X), rng.integers(0, population, (population // 2, 2)),
                                random_state=rng)
        X = mutation.do(problem, children, random_state=rng).get("X")
    return X


def distribution(X: np.ndarray) -> dict:
    genes = X.shape[1]
    lo, hi = stats.chi2(genes).ppf([0.005, 0.995])
    norms = (X ** 2).sum(1)
    return {"mean": float(X.mean()), "var": float(X.var()), "skew": float(stats.skew(X.ravel())),
            "ks_rejected": float(np.mean([stats.kstest(x, "norm").pvalue < 0.05 for x in X])),
            "norms_in_chi2_99": float(np.mean((norms > lo) & (norms < hi)))}


def rotation(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The alternative to slerp: cos(a) x + sin(a) y (and its mirror), a = t pi / 2, exactly N(0, I) for
    independent N(0, I) parents."""
    a = (t * np.pi / 2)[:, None]
    return np.cos(a) * x + np.sin(a) * y, np.sin(a) * x + np.cos(a) * y


def test_slerp_is_kept_over_the_exact_gaussian_rotation_by_measurement():
    """The measurement behind the crossover of N(0, I) genes. For independent parents (256 genes, 2,000 pairs) the
    rotation's children have chi-distributed norms (KS p > 0.05) and slerp's do not (KS p < 1e-4: it narrows the
    norms' spread to 0.84 of the chi's), though 99.8 % of its children lie in the chi's central 99 %. But a
    population's parents are not independent: mated without selection for 50 generations (parents repeat, so
    children correlate), the rotation's norms grow without bound while slerp's stay inside the chi-square's central
    99 % (test below). So slerp stays the crossover."""
    from harness.search.operators import slerp

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 2000, 256))
    t = rng.random(2000)
    chi = stats.chi(256)
    rotated = np.linalg.norm(np.concatenate(rotation(x, y, t)), axis=1)
    slerped = np.linalg.norm(np.concatenate([slerp(x, y, t), slerp(y, x, t)]), axis=1)
    assert stats.kstest(rotated, chi.cdf).pvalue > 0.05
    assert stats.kstest(slerped, chi.cdf).pvalue < 1e-4
    lo, hi = chi.ppf([0.005, 0.995])
    assert ((slerped > lo) & (slerped < hi)).mean() >= 0.99  # narrower, not shifted: 99.8 % inside the central 99 %
    assert 0.8 < slerped.std() / chi.std() < 0.9  # the narrowing itself (0.59 against 0.71 here)
    X = rng.standard_normal((100, 256))
    for _ in range(50):  # the evolution of evolve() with the rotation as crossover and no mutation
        pairs = rng.integers(0, 100, (50, 2))
        X = np.concatenate(rotation(X[pairs[:, 0]], X[pairs[:, 1]], rng.random(50)))
    norms = np.linalg.norm(X, axis=1)
    assert np.median(norms) > 2 * chi.ppf(0.9995)  # far outside anything N(0, I) noise looks like


def test_noise_operators_keep_n01_where_sbx_and_pm_do_not():
    """After 50 generations without selection each child's genes still pass a KS test against N(0, 1) and its
    squared norm lies in the chi-square's central 99 %; pymoo's SBX/PM on the same genes inflate the variance."""
    ours, theirs = distribution(evolve(True)), distribution(evolve(False))
    print("noise operators:", ours, "\nSBX/PM:", theirs)
    assert abs(ours["mean"]) < 0.05 and abs(ours["var"] - 1) < 0.05 and abs(ours["skew"]) < 0.05
    assert ours["ks_rejected"] <= 0.1 and ours["norms_in_chi2_99"] >= 0.95
    assert theirs["var"] > 2 and theirs["ks_rejected"] > 0.9 and theirs["norms_in_chi2_99"] < 0.05


def test_the_image_is_a_function_of_the_noise(tiny_generators):
    gen = tiny_generators["diffusion"]
    gen.condition("a red bus.")
    x = gen.initial_latents(3, seed=0)
    assert gen.latent_dim == int(np.prod(gen.latent_shape)) and gen.blocks()[0].gaussian
    a = gen.decode(x)
    assert torch.equal(a, gen.decode(x)) and a.shape == (3, 3, gen.image_size, gen.image_size)
    assert not torch.equal(a, gen.decode(gen.initial_latents(3, seed=1)))
    gen.condition("a green field.")  # the caption conditions the image
    assert not torch.equal(a, gen.decode(x))


def test_zero_order_spends_the_same_budget_and_keeps_its_pivot(tiny_system, tiny_generators):
    from harness.config.schema import SearchConfig
    from harness.search import load_method, run_search

    gen, search = tiny_generators["diffusion"], SearchConfig(population=6, offspring=4, generations=3)
    zero = run_search("a red bus.", load_method("zero_order"), tiny_system.scorer, gen, search, seed=0)
    other = run_search("a red bus.", load_method("best_of_n"), tiny_system.scorer, gen, search, seed=0)
    assert zero.evaluations == other.evaluations == 6 + 4 * 2
    best = zero.scores["text_image"]
    assert zero.selected == int(np.argmax(best)) and best[zero.selected] >= max(r.scores["text_image"].max()
                                                                                for r in zero.history[:1])


@pytest.mark.slow
def test_smoke_diffusion_runs_every_method_and_resumes_after_kill_9(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    whole = tmp_path / "whole"
    proc = subprocess.run([console_script(), "run", REPO / "suites" / "smoke_diffusion", "--out", whole],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((whole / "manifest.json").read_text())
    assert set(manifest["methods"]) == {"no_selection", "best_of_n", "zero_order", "clip_single", "four_objective"}
    assert manifest["models"]["ids"]["generator"] == "diffusion:tiny" and (whole / "report.md").is_file()
    killed = tmp_path / "killed"
    child = subprocess.Popen([console_script(), "run", REPO / "suites" / "smoke_diffusion", "--out", killed],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 600
    while time.time() < deadline and not list(killed.glob("jobs/*/*/s0/checkpoint.pkl")):
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    proc = subprocess.run([console_script(), "run", REPO / "suites" / "smoke_diffusion", "--out", killed],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pd.testing.assert_frame_equal(pd.read_parquet(whole / "archive.parquet"), pd.read_parquet(killed / "archive.parquet"))


@pytest.mark.slow
def test_harness_search_on_the_diffusion_generator_stores_redecodable_noise(tmp_path, tiny_pipeline):
    from harness.generators import DiffusionGenerator
    from harness.rundir.files import load_png

    out = tmp_path / "bus"
    proc = subprocess.run([console_script(), "search", "a red bus.", "--models", "tiny", "--set",
                           "models.generator=diffusion", "--method", "four_objective", "--seed", "0", "--out", out,
                           *TINY], capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    latents = np.load(out / "latents.npz")
    gen = DiffusionGenerator(tiny_pipeline)
    gen.condition("a red bus.")
    image = gen.decode(latents["latents"][int(latents["selected"])][None])
    stored = load_png(out / "selected.png")
    assert (image[0] - stored).abs().max() <= 1 / 255 + 1e-6  # the 8-bit image, decoded again from its noise
