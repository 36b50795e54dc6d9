"""Diffusion generators: the image is a deterministic function of the noise genome, the noise operators keep
N(0, I) where pymoo's SBX/PM do not, zero-order search follows the paper at the same budget, the tiny pipeline runs the smoke
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


def noise_operator_outputs(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """Every operator the harness applies to N(0, I) genes, on independent N(0, I) inputs x, y [n, D]: the
    crossover's two children, the mutation, the paper's zero-order neighbour (one per pivot) and the greedy one."""
    from harness.search.operators import gaussian_mutation, slerp_keeping_norm
    from harness.search.zero_order import sphere_neighbours

    rng = np.random.default_rng(1)
    s = 0.3
    return {"crossover": np.concatenate([slerp_keeping_norm(x, y, t), slerp_keeping_norm(y, x, t)]),
            "mutation": gaussian_mutation(x, s, rng),
            "zero_order neighbour": np.stack([sphere_neighbours(p, np.sqrt(1 - s ** 2), 1, rng)[0] for p in x]),
            "zero_order_greedy neighbour": np.sqrt(1 - s ** 2) * x + s * rng.standard_normal(x.shape)}


def test_noise_operators_pass_the_norm_test():
    """On a fixed sample (2,000 independent N(0, I) inputs of 256 genes), every noise operator's outputs have
    chi(256)-distributed norms (KS p > 0.05) and N(0, 1) genes. Plain slerp, the crossover until 2026-12-07, fails
    the same test (it narrows the norms' spread to 0.84 of the chi's)."""
    from harness.search.operators import slerp

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 2000, 256))
    t = rng.random(2000)
    chi = stats.chi(256)
    for name, out in noise_operator_outputs(x, y, t).items():
        norms = np.linalg.norm(out, axis=1)
        assert stats.kstest(norms, chi.cdf).pvalue > 0.05, name
        assert stats.kstest(out[:, 0], "norm").pvalue > 0.01 and abs(out.var() - 1) < 0.01, name
    slerped = np.linalg.norm(np.concatenate([slerp(x, y, t), slerp(y, x, t)]), axis=1)
    assert stats.kstest(slerped, chi.cdf).pvalue < 1e-4
    assert 0.8 < slerped.std() / chi.std() < 0.9


def test_the_crossover_keeps_norms_when_parents_repeat_where_the_rotation_does_not():
    """A population's parents are not independent: mated without selection for 50 generations (parents repeat, so
    children correlate), the rotation cos(a) x + sin(a) y, exactly N(0, I) for independent parents, grows the norms
    without bound; the crossover keeps every norm one of the initial ones."""
    from harness.search.operators import slerp_keeping_norm

    rng = np.random.default_rng(0)
    chi = stats.chi(256)
    start = rng.standard_normal((100, 256))
    for op, far in ((rotation, True), (lambda a, b, t: (slerp_keeping_norm(a, b, t), slerp_keeping_norm(b, a, t)),
                                     False)):
        X = start.copy()
        for _ in range(50):  # the evolution of evolve() with this crossover and no mutation
            pairs = rng.integers(0, 100, (50, 2))
            X = np.concatenate(op(X[pairs[:, 0]], X[pairs[:, 1]], rng.random(50)))
        norms = np.linalg.norm(X, axis=1)
        if far:
            assert np.median(norms) > 2 * chi.ppf(0.9995)  # far outside anything N(0, I) noise looks like
        else:
            assert np.isin(np.round(norms, 9), np.round(np.linalg.norm(start, axis=1), 9)).all()


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


def test_both_zero_orders_spend_the_same_budget_and_pick_the_best_seen(tiny_system, tiny_generators):
    from harness.config.schema import SearchConfig
    from harness.search import load_method, run_search

    gen, search = tiny_generators["diffusion"], SearchConfig(population=6, offspring=4, generations=3)
    other = run_search("a red bus.", load_method("best_of_n"), tiny_system.scorer, gen, search, seed=0)
    for name in ("zero_order", "zero_order_greedy"):
        zero = run_search("a red bus.", load_method(name), tiny_system.scorer, gen, search, seed=0)
        assert zero.evaluations == other.evaluations == 6 + 4 * 2
        best = zero.scores["text_image"]
        assert zero.selected == int(np.argmax(best))
        assert best[zero.selected] >= max(r.scores["text_image"].max() for r in zero.history), name


def test_zero_order_follows_the_paper():
    """Ma et al.'s zero-order search: one random first pivot (the first shared initial latent), neighbours on its
    sphere at cosine sqrt(1 - s^2), the pivot evaluated again every round, the best neighbour the next pivot when it
    beats the pivot, and fresh random noise when none does. The greedy variant starts from the best of the whole
    initial population instead."""
    from harness.config.schema import SearchConfig
    from harness.generators.class_genome import Block
    from harness.search import load_method
    from harness.search.strategies import make_strategy

    D, method = 64, load_method("zero_order")
    X0 = np.random.default_rng(5).standard_normal((6, D))
    sample = lambda n, key: np.random.default_rng(key).standard_normal((n, D))  # noqa: E731
    search = SearchConfig(population=6, offspring=4, generations=4)
    strategy = make_strategy(method, search, X0, -9 * np.ones(D), 9 * np.ones(D), 0, [0], [Block("noise", 0, D,
                                                                                                    gaussian=True)])
    X = strategy.ask(sample)
    cosine = X[1:] @ X[0] / np.linalg.norm(X[1:], axis=1) / np.linalg.norm(X[0])
    assert np.array_equal(X[0], X0[0]) and len(X) == 6
    assert np.allclose(np.linalg.norm(X, axis=1), np.linalg.norm(X0[0]))
    assert np.allclose(cosine, np.sqrt(1 - method.noise_mutation_sigma ** 2))
    scores = np.stack([X[:, 0], np.zeros(6)], axis=1)
    scores[3, 0] = scores[:, 0].max() + 1  # neighbour 3 beats the pivot
    strategy.tell(X, scores, list(range(6)))
    Y = strategy.ask(sample)
    assert np.array_equal(Y[0], X[3]) and len(Y) == 4  # the best neighbour is the pivot, evaluated again
    strategy.tell(Y, np.stack([np.full(4, scores[3, 0]), np.zeros(4)], axis=1), [10, 11, 12, 13])  # none beats it
    kept = strategy.population().payload
    assert len(kept) == 6 and kept.count(3) == 1 and 10 not in kept  # the pivot's second evaluation not kept twice
    Z = strategy.ask(sample)
    assert np.array_equal(Z[0], sample(1, [0, 0x2E0, 2])[0]) and strategy.restarts == 1  # a fresh restart

    greedy = make_strategy(load_method("zero_order_greedy"), search, X0, -9 * np.ones(D), 9 * np.ones(D), 0, [0],
                           [Block("noise", 0, D, gaussian=True)])
    assert np.array_equal(greedy.ask(sample), X0)
    greedy.tell(X0, np.stack([X0[:, 0], np.zeros(6)], axis=1), list(range(6)))
    pivot = X0[np.argmax(X0[:, 0])]
    assert (greedy.ask(sample) @ pivot > 0.8 * pivot @ pivot).all()  # neighbours of the best initial latent


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
