"""Multi-step diffusion and evolution along the denoising path: the DDIM loop equals diffusers' pipeline, a path
continued from a kept state gives the same image, state mutation keeps x_t's law (the noise operators' test), the
NFE budget plans every method (EvoSearch's own schedule is 5,000 NFE at 50 steps), every method's spend is
recorded, and evo_trajectory's population re-decodes from latents.npz."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from scipy import stats

from helpers import REPO, harness_cli

DDIM = "diffusion[ddim, 8 steps, eta 1, guidance 3]"


@pytest.mark.parametrize("guidance", [0.0, 3.0])
def test_the_ddim_loop_equals_diffusers_pipeline(tiny_pipeline, guidance):
    """eta = 0: the harness's own loop (which evo_trajectory runs part by part) and StableDiffusionPipeline with
    DDIMScheduler give the same images exactly, with and without classifier-free guidance."""
    import diffusers

    from harness.generators import DiffusionGenerator

    gen = DiffusionGenerator(tiny_pipeline, steps=8, guidance=guidance, scheduler="ddim", eta=0.0)
    gen.condition("a red bus.")
    X = gen.initial_latents(3, 0)
    ours = gen.decode(X)
    reference = diffusers.StableDiffusionPipeline(**tiny_pipeline.components)
    reference.scheduler = diffusers.DDIMScheduler.from_config(tiny_pipeline.scheduler.config)
    reference.set_progress_bar_config(disable=True)
    embeds = {k: v.repeat(3, 1, 1) for k, v in gen.encoding("a red bus.").items()}
    theirs = reference(**embeds, latents=torch.tensor(X, dtype=torch.float32).reshape(3, *gen.latent_shape),
                       num_inference_steps=8, guidance_scale=guidance, eta=0.0, output_type="pt").images
    assert torch.equal(ours, theirs.clamp(0, 1))
    assert gen.counters == {"nfe": 24, "decoder_calls": 3}


def test_a_path_continued_from_a_kept_state_gives_the_same_image(tiny_generators):
    """eta = 1: the sampler's noise is drawn per image and step from a seed, so the image is a function of the
    genome, and denoising from the state kept at step 3 (with the same seed) finishes the same image."""
    from harness.generators.diffusion import genome_seeds

    gen = tiny_generators[DDIM]
    gen.condition("a red bus.")
    X = gen.initial_latents(3, 0)
    full = gen.decode(X)
    assert torch.equal(full, gen.decode(X))
    images, kept = gen.denoise(X, 0, genome_seeds(X), keep=(3, 5))
    assert torch.equal(images, full) and kept[3][0].shape == (3, gen.latent_dim)
    again, _ = gen.denoise(kept[5][0], 5, genome_seeds(X))
    assert torch.equal(again, full)
    other, _ = gen.denoise(kept[5][0], 5, genome_seeds(X) + np.uint64(1))  # another continuation
    assert not torch.equal(other, full)


def law_of(x: np.ndarray) -> dict:
    chi = stats.chi(x.shape[1])
    return {"norm_p": stats.kstest(np.linalg.norm(x, axis=1), chi.cdf).pvalue,
            "gene_p": stats.kstest(x[:, 0], "norm").pvalue, "var": float(x.var())}


@pytest.mark.parametrize("alpha_bar", [0.05, 0.5, 0.9])
def test_state_mutation_keeps_the_law_of_x_t_where_adding_step_noise_does_not(alpha_bar):
    """x_t = sqrt(a) x0 + sqrt(1 - a) eps on a fixed sample (2,000 states of 256 genes, x0 far from Gaussian): after
    the mutation the noise part (x_t' - sqrt(a) x0) / sqrt(1 - a) is still N(0, I), its norms chi-distributed (KS
    p > 0.05), the noise operators' test; the reference's x + sigma e (sigma 0.3) widens it and fails."""
    from harness.search.trajectory import mutate_state

    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (2000, 256)) ** 3
    eps = rng.standard_normal((2000, 256))
    x = np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * eps
    noise_part = lambda y: (y - np.sqrt(alpha_bar) * x0) / np.sqrt(1 - alpha_bar)  # noqa: E731
    ours = law_of(noise_part(mutate_state(x, eps, alpha_bar, 0.2, rng)))
    assert ours["norm_p"] > 0.05 and ours["gene_p"] > 0.01 and abs(ours["var"] - 1) < 0.01, ours
    theirs = law_of(noise_part(x + 0.3 * rng.standard_normal(x.shape)))
    assert theirs["norm_p"] < 1e-4, theirs
    moved = mutate_state(x, eps, alpha_bar, 0.2, rng) - x
    assert np.abs(moved).mean() > 0.05  # it does move the state


def test_state_mutation_at_step_0_is_the_noise_operator():
    from harness.search.trajectory import mutate_state

    rng = np.random.default_rng(1)
    x = rng.standard_normal((2000, 256))
    out = law_of(mutate_state(x, None, 0.0, 0.2, rng))
    assert out["norm_p"] > 0.05 and out["gene_p"] > 0.01


def test_the_budget_plans_every_method():
    """EvoSearch's SD 2.1 schedule is 5,000 NFE at 50 steps (100 images' worth) and is kept as written there; at
    the tiny pipeline's 8 steps both schedules scale to the budget; initial-noise methods get the generations the
    budget pays for; no_selection makes one image."""
    from harness.config.schema import SearchConfig
    from harness.search import load_method
    from harness.search.budget import plan

    evo = load_method("evo_trajectory")
    paper = plan(evo, SearchConfig(nfe=5000), 50)
    assert paper.sizes == (42, 26, 26, 26, 30) and paper.evolution_steps == (0, 20, 30, 40)
    assert paper.nfe == paper.budget == 5000 and paper.elites == 5
    search = SearchConfig(population=4, offspring=4, nfe=128)
    tiny = plan(evo, search, 8)
    assert tiny.evolution_steps == (0, 3, 5, 6) and tiny.nfe <= 128 and tiny.nfe > 128 - 2
    assert plan(load_method("best_of_n"), search, 8).search.generations == 4
    assert plan(load_method("best_of_n"), search, 8).nfe == 128
    assert plan(load_method("no_selection"), search, 8).nfe == 8


def test_evo_trajectory_spends_the_budget_and_its_population_re_decodes(tiny_system, tiny_generators):
    """On the tiny pipeline's 8-step sampler at 128 NFE: evo_trajectory and best_of_n both spend 128, the spend is
    on the result, and the stored states re-decode (each from its step, with its seed) to the stored images."""
    from harness.config.schema import SearchConfig
    from harness.executors.job import decode_latents
    from harness.search import load_method, run_search
    from harness.search.loop import quantize, to_uint8

    gen, search = tiny_generators[DDIM], SearchConfig(population=4, offspring=4, nfe=128)
    evo = run_search("a red bus.", load_method("evo_trajectory"), tiny_system.scorer, gen, search, seed=0)
    bon = run_search("a red bus.", load_method("best_of_n"), tiny_system.scorer, gen, search, seed=0)
    assert evo.spent["nfe"] == bon.spent["nfe"] == 128 and evo.spent["budget_nfe"] == 128
    assert bon.spent["decoder_calls"] == bon.spent["critic_images"] == 16 and evo.spent["decoder_calls"] > 16
    steps = evo.trajectory["start_step"]
    assert len(steps) == len(evo.images) and set(steps.tolist()) <= {0, 3, 5, 6} and (steps > 0).any()
    gen.condition("a red bus.")
    again = to_uint8(quantize(decode_latents(gen, evo.X, evo.trajectory)))
    assert all(np.array_equal(a, b) for a, b in zip(again, evo.images))
    assert evo.scores["text_image"][evo.selected] >= bon.scores["text_image"].max() - 1.0  # a real, scored result


@pytest.mark.slow
def test_budgets_run_every_method_at_equal_nfe_answer_first_and_restore(tmp_path):
    """`harness ablate suites/smoke_multistep --budgets 64,128`: budgets.md opens with the answer, the figures say
    nfe; each budget's run has every method incl. evo_trajectory at that NFE (no_selection: one image of 8 steps)
    in the manifest's job records and metrics.json. The 128 run is `harness run suites/smoke_multistep` (its own
    budget): rerun as such after a deleted evo_trajectory image, it restores the image from latents.npz byte for
    byte."""
    out = tmp_path / "budgets"
    proc = harness_cli("ablate", str(REPO / "suites" / "smoke_multistep"), "--budgets", "64,128", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = (out / "budgets.md").read_text()
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Answer" and "**64 NFE**" in report and "**128 NFE**" in report
    for name in ("score_vs_nfe", "hacking_gap_vs_nfe"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000 and (out / "figures" / f"{name}.svg").exists()
    summary = json.loads((out / "budgets.json").read_text())
    assert summary["budgets"] == [64, 128] and summary["equal_compute"] == {"64": True, "128": True}
    for budget in (64, 128):
        run = out / f"nfe={budget}"
        manifest = json.loads((run / "manifest.json").read_text())
        assert {"evo_trajectory", "evo_trajectory_four", "best_of_n", "four_objective"} <= set(manifest["methods"])
        for record in manifest["jobs"]:
            assert record["budget_nfe"] == budget
            assert record["nfe"] == (8 if record["method"] == "no_selection" else budget)
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["nfe"]["budget_nfe"] == budget and metrics["nfe"]["equal"] is True
        assert metrics["nfe"]["methods"]["evo_trajectory"]["nfe"]["value"] == budget
        assert "## Compute" in (run / "report.md").read_text()
    run = out / "nfe=128"
    job = next(p for p in (run / "jobs").rglob("latents.npz") if p.parts[-3] == "evo_trajectory")
    png = job.parent / "population" / "0003.png"
    before = png.read_bytes()
    png.unlink()
    proc = harness_cli("run", str(REPO / "suites" / "smoke_multistep"), "--out", str(run))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "restored from latents.npz" in proc.stdout + proc.stderr and png.read_bytes() == before
    shutil.rmtree(out)


def test_compare_flags_runs_of_different_compute():
    from harness.analysis.compare import describe_mismatch

    def manifest(nfe):
        return {"jobs": [{"method": "best_of_n", "nfe": nfe}, {"method": "no_selection", "nfe": 8}]}

    assert describe_mismatch(manifest(128), manifest(128)) == []
    assert describe_mismatch(manifest(64), manifest(128)) == [
        "compute differs (NFE per job) for best_of_n: not an equal-compute comparison"]


def test_a_v_prediction_pipeline_runs_the_loop_exactly_and_keeps_its_noise(tiny_pipeline):
    """SD 2.1 (768 px) predicts v, not the noise: the loop still equals diffusers' pipeline (random weights, the
    tiny architecture with SD 2.1's prediction_type), and the kept prediction is the noise, so the state mutation
    moves the noise part: for x = sqrt(a) x0 + sqrt(1 - a) e and v = sqrt(a) e - sqrt(1 - a) x0 it returns e."""
    import diffusers

    from harness.generators import DiffusionGenerator

    config = {**tiny_pipeline.scheduler.config, "prediction_type": "v_prediction"}
    pipe = diffusers.StableDiffusionPipeline(**{**tiny_pipeline.components,
                                                "scheduler": diffusers.EulerDiscreteScheduler.from_config(config)})
    pipe.set_progress_bar_config(disable=True)
    gen = DiffusionGenerator(pipe, steps=6, guidance=2.0, scheduler="ddim", eta=0.0)
    gen.condition("a red bus.")
    X = gen.initial_latents(2, 0)
    reference = diffusers.StableDiffusionPipeline(**pipe.components)
    reference.scheduler = diffusers.DDIMScheduler.from_config(config)
    reference.set_progress_bar_config(disable=True)
    embeds = {k: v.repeat(2, 1, 1) for k, v in gen.encoding("a red bus.").items()}
    theirs = reference(**embeds, latents=torch.tensor(X, dtype=torch.float32).reshape(2, *gen.latent_shape),
                       num_inference_steps=6, guidance_scale=2.0, eta=0.0, output_type="pt").images
    assert torch.equal(gen.decode(X), theirs.clamp(0, 1))
    t = gen.scheduler.timesteps[2]
    a = gen.scheduler.alphas_cumprod[int(t)]
    x0, e = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    x = a.sqrt() * x0 + (1 - a).sqrt() * e
    torch.testing.assert_close(gen.noise_prediction(a.sqrt() * e - (1 - a).sqrt() * x0, x, t), e)


def test_evo_trajectory_resumes_from_a_checkpoint_to_the_same_result(tiny_system, tiny_generators):
    """The strategy is a checkpoint (a pickle): stopped after generation 1 and resumed, evo_trajectory ends with the
    population, images and spend of the uninterrupted search."""
    import pickle

    from harness.config.schema import SearchConfig
    from harness.search import load_method, run_search

    gen, search, method = tiny_generators[DDIM], SearchConfig(population=4, offspring=4, nfe=128), \
        load_method("evo_trajectory_four")
    whole = run_search("a red bus.", method, tiny_system.scorer, gen, search, seed=3)

    class Stop(Exception):
        pass

    class CheckpointThenStop:
        def on_generation(self, record, strategy):
            if record.generation == 1:
                self.state = pickle.dumps({"strategy": strategy, "evaluations": record.evaluations,
                                           "spent": record.spent})
                raise Stop

    stop = CheckpointThenStop()
    with pytest.raises(Stop):
        run_search("a red bus.", method, tiny_system.scorer, gen, search, seed=3, callbacks=[stop])
    state = pickle.loads(stop.state)
    resumed = run_search("a red bus.", method, tiny_system.scorer, gen, search, seed=3, strategy=state["strategy"],
                         evaluations=state["evaluations"], spent=state["spent"])
    assert np.array_equal(resumed.X, whole.X) and resumed.spent == whole.spent
    assert all(np.array_equal(a, b) for a, b in zip(resumed.images, whole.images))
    assert {k: v.tolist() for k, v in resumed.trajectory.items()} == {k: v.tolist() for k, v in whole.trajectory.items()}


def test_the_compute_section_flags_a_method_that_spent_a_different_budget():
    """metrics.json `nfe`: a searching method under the budget by more than one generation, or over it, is flagged
    and the comparison is not equal compute; no_selection's one image is by design."""
    from types import SimpleNamespace

    from harness.metrics.spent import section

    def job(method, nfe):
        return {"method": method, "status": "done", "nfe": nfe, "budget_nfe": 128, "decoder_calls": nfe // 8,
                "critic_images": nfe // 8}

    config = {"models": {"generator": "diffusion"}, "generator": {"steps": 8}, "search": {"population": 4,
                                                                                         "offspring": 4}}
    methods = {"no_selection": {"algorithm": "single"}, "best_of_n": {"algorithm": "random"},
               "evo_trajectory": {"algorithm": "evo_trajectory"}}
    fair = section(SimpleNamespace(manifest={"config": config, "methods": methods, "jobs": [
        job("no_selection", 8), job("best_of_n", 128), job("evo_trajectory", 126)]}))
    assert fair["equal"] is True and fair["flagged"] == [] and fair["methods"]["evo_trajectory"]["nfe"]["value"] == 126
    unfair = section(SimpleNamespace(manifest={"config": config, "methods": methods, "jobs": [
        job("no_selection", 8), job("best_of_n", 64), job("evo_trajectory", 136)]}))
    assert unfair["equal"] is False and unfair["flagged"] == ["best_of_n", "evo_trajectory"]
    assert "not an equal-compute comparison" in unfair["methods"]["best_of_n"]["flag"]
