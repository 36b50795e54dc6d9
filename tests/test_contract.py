"""One contract every registered critic, generator and metric passes. Critics and generators: shape,
range, finite, deterministic, batch-invariant (the same scores to 1e-5 whether a batch is split or not).
Metrics: JSON as stored, deterministic, every number with n, interval and direction, archive untouched."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from harness.critics import SCORE_NAMES
from harness.critics.base import Features
from harness.generators import GENERATORS
from helpers import PLUGINS

CAPTION = "a cat is lay on the table."
PLUGIN_CRITIC = "harness_colorfulness.critic:ColorfulnessCritic"  # the example plugin (tests/plugins), on sys.path
PLUGIN_METRIC = "harness_colorfulness.metric:FRONT_SHARE"
PLUGIN_JUDGE = "harness_colorfulness.judge:SaturationJudge"


@pytest.mark.parametrize("name", ["pickscore", "hpsv2", PLUGIN_JUDGE])
def test_judge_contract(name, images, monkeypatch):
    """Every judge, built-in or plugin: one finite float per image within its range, the same twice, the same
    whether the batch is split or not; captions come as caption objects."""
    from harness.config.schema import MetricsConfig, ModelsConfig
    from harness.metrics.compute import load_judges
    from harness.suites.captions import Caption

    monkeypatch.syspath_prepend(str(PLUGINS))
    metrics = MetricsConfig(evaluators=["clipscore", name])  # loaded as a run's metrics load them
    judges, _ = load_judges(metrics.panel(), ModelsConfig(profile="tiny"), "cpu", metrics)
    judge = judges[name]
    captions = [Caption(f"c{i}", CAPTION) for i in range(len(images))]
    scores = np.asarray(judge.score(images, captions), dtype=np.float64)
    assert scores.shape == (len(images),) and np.isfinite(scores).all()
    lo, hi = judge.score_range
    assert (scores >= lo - 1e-6).all() and (scores <= hi + 1e-6).all() and isinstance(judge.id, str)
    np.testing.assert_array_equal(scores, judge.score(images, captions))
    split = np.concatenate([judge.score(images[:2], captions[:2]), judge.score(images[2:], captions[2:])])
    np.testing.assert_allclose(split, scores, atol=1e-4, rtol=1e-5)


@pytest.fixture(scope="module")
def images(tiny_system):
    return tiny_system.generator.decode(tiny_system.generator.initial_latents(6, seed=1))


@pytest.fixture(scope="module")
def plugin_scorer(tiny_models, monkeypatch_module):
    """A Scorer of the built-in critics and the example plugin critic, through the same registration path."""
    from harness.critics.scorer import Scorer
    from harness.search.system import build_system
    from helpers import small_config

    monkeypatch_module.syspath_prepend(str(PLUGINS))
    return build_system(small_config(f"critics.plugins=[{PLUGIN_CRITIC}]"), models=tiny_models).scorer


@pytest.mark.parametrize("name", [*SCORE_NAMES, "colorfulness"])
def test_critic_contract(name, plugin_scorer, images):
    critic = plugin_scorer.critics[name]
    ctx = plugin_scorer.context(CAPTION)
    scores = critic.score(images, ctx)
    assert scores.shape == (len(images),) and scores.dtype == torch.float32
    assert torch.isfinite(scores).all()
    lo, hi = critic.score_range
    assert (scores >= lo - 1e-6).all() and (scores <= hi + 1e-6).all()
    again = critic.score(images, ctx)
    assert torch.equal(scores, again)
    split = torch.cat([critic.score(images[:2], ctx), critic.score(images[2:], ctx)])
    torch.testing.assert_close(split, scores, atol=1e-5, rtol=0)
    with pytest.raises(ValueError):
        critic.score(images[0], ctx)
    with pytest.raises(ValueError):
        critic.score((images * 255).to(torch.uint8), ctx)


GENERATOR_VARIANTS = ["biggan[softmax]", "biggan[sparse]", "biggan[sparse, 3 classes]", "biggan[embedding]",
                      "stylegan2_ada[w, random noise]", "stylegan2_ada[wplus]", "diffusion[2 steps]",
                      "diffusion[ddim, 8 steps, eta 1, guidance 3]"]


@pytest.mark.parametrize("name", list(GENERATORS) + GENERATOR_VARIANTS)
def test_generator_contract(name, tiny_generators):
    gen = tiny_generators[name]
    assert isinstance(gen, GENERATORS[name.split("[")[0]])
    gen.condition("a cat is lay on the table.")  # a text-conditioned generator reads the caption; a GAN ignores it
    xl, xu = gen.bounds()
    assert xl.shape == xu.shape == (gen.latent_dim,) and (xl < xu).all()
    x = gen.initial_latents(5, seed=3)
    assert x.shape == (5, gen.latent_dim) and (x >= xl).all() and (x <= xu).all()
    np.testing.assert_array_equal(x, gen.initial_latents(5, seed=3))
    assert not np.array_equal(x, gen.initial_latents(5, seed=4))
    imgs = gen.decode(x)
    assert imgs.shape == (5, 3, gen.image_size, gen.image_size) and imgs.dtype == torch.float32
    assert torch.isfinite(imgs).all() and imgs.min() >= 0 and imgs.max() <= 1
    assert torch.equal(imgs, gen.decode(x))
    split = torch.cat([gen.decode(x[:2]), gen.decode(x[2:])])
    torch.testing.assert_close(split, imgs, atol=1e-5, rtol=0)
    with pytest.raises(ValueError):
        gen.decode(x[:, :-1])
    blocks = gen.blocks()  # contiguous, covering the genome; integer genes are integers within bounds
    assert blocks[0].start == 0 and blocks[-1].stop == gen.latent_dim
    assert all(a.stop == b.start for a, b in zip(blocks, blocks[1:]))
    for b in blocks:
        if b.integer:
            np.testing.assert_array_equal(x[:, b.start:b.stop], np.round(x[:, b.start:b.stop]))
    info = gen.class_info(x)
    if info is not None:
        assert set(info) == {"top_class", "top_class_weight", "effective_classes"}
        assert all(len(v) == 5 for v in info.values())
        assert ((info["top_class"] >= 0) & (info["top_class"] < gen.num_classes)).all()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_features_are_shared_between_critics(tiny_system, images):
    ctx = tiny_system.scorer.context(CAPTION)
    critics = tiny_system.scorer.critics
    features = critics["image_real"].features(images)
    critics["image_real"].score(images, ctx, features)
    logits = features.logits
    critics["word_label"].score(images, ctx, features)
    assert features.logits is logits
    with pytest.raises(ValueError):
        critics["word_label"].score(images.clone(), ctx, features)
    assert isinstance(features, Features)


def _value_entries(obj):
    """Every metric number of a section: the dicts that carry a 'value' (a number) or a 'mean' list (a curve)."""
    if isinstance(obj, dict):
        if "value" in obj or isinstance(obj.get("mean"), list):
            yield obj
        for v in obj.values():
            yield from _value_entries(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _value_entries(v)


@pytest.fixture(scope="module")
def metric_sections(smoke_run, monkeypatch_module):
    """Every registered metric section computed twice, each time on a fresh context of the smoke run."""
    from harness.config.run import build_run_config
    from harness.config.schema import ModelsConfig
    from harness.config.typed import from_dict
    from harness.metrics.compute import MetricContext, load_evaluator
    from harness.metrics.registry import METRICS
    from harness.rundir import RunDir
    from harness.rundir.archive import selected_rows

    monkeypatch_module.syspath_prepend(str(PLUGINS))
    out, ref = smoke_run
    rundir = RunDir(out)
    manifest = rundir.read_manifest()
    cfg = build_run_config({"metrics": manifest["config"]["metrics"]}).metrics
    evaluator = load_evaluator(cfg, from_dict(ModelsConfig, manifest["config"]["models"], "manifest"), "cpu")
    from harness.metrics.registry import plugin_section

    sections = [*METRICS.values(), plugin_section(PLUGIN_METRIC)]  # the example plugin's section too
    runs = []
    for _ in range(2):
        archive = rundir.read_archive()
        ctx = MetricContext(rundir, cfg, manifest, archive, selected_rows(archive), evaluator, str(ref), out / "cache")
        runs.append({section.name: section.compute(ctx) for section in sections})
        pd.testing.assert_frame_equal(archive, rundir.read_archive())  # a section never changes the archive
    return runs


@pytest.mark.parametrize("name", [*__import__("harness.metrics.registry", fromlist=["METRICS"]).METRICS, "front_share"])
def test_metric_contract(name, metric_sections):
    first, second = metric_sections
    section = first[name]
    assert json.loads(json.dumps(section)) == section  # JSON as it is stored in metrics.json
    assert json.dumps(section, sort_keys=True) == json.dumps(second[name], sort_keys=True)  # deterministic
    entries = list(_value_entries(section))
    assert entries or "skipped" in section, "a metric section reports no number"
    for e in entries:
        if "mean" in e and isinstance(e["mean"], list):  # a curve: its band is labelled and as long as the mean
            assert {"n", "band", "higher_is_better"} <= set(e) and len(e["lo"]) == len(e["hi"]) == len(e["mean"])
            continue
        assert {"value", "n", "interval", "higher_is_better"} <= set(e), e
        assert e["value"] is None or np.isfinite(e["value"])
        assert e["interval"] is None or (len(e["interval"]) == 2 and e["interval"][0] <= e["interval"][1] + 1e-12)
