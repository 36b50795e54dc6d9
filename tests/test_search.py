"""The search loop: forward-pass counts, shared initial latents, determinism, and that search helps."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from harness.config.methods import load_method
from harness.critics import BUILTIN, SCORE_NAMES
from harness.metrics.hypervolume import hypervolume
from harness.rundir import ARCHIVE_COLUMNS
from harness.search import Callback, run_search
from helpers import REPO, small_config, tree_digest

CAPTION = "a cat is lay on the table."
RANGES = [spec.load().score_range for spec in BUILTIN]


class RowCounter:
    def __init__(self, module):
        self.rows = 0
        module.register_forward_hook(self)

    def __call__(self, module, inputs, output):
        self.rows += inputs[0].shape[0]


def test_forward_passes_per_image_and_per_caption(tiny_models):
    from harness.search.system import build_system

    cfg = small_config("search.population=6", "search.offspring=5", "search.generations=3")
    system = build_system(cfg, models=tiny_models)
    gen = RowCounter(tiny_models.generator)
    cls = RowCounter(tiny_models.classifier.model)
    vis = RowCounter(tiny_models.clip.visual)
    texts = []
    encode_text = tiny_models.clip.model.encode_text
    tiny_models.clip.model.encode_text = lambda tokens, **kw: (texts.append(len(tokens)), encode_text(tokens, **kw))[1]
    flair_calls = []
    embed_tokens = tiny_models.words.embed_tokens
    tiny_models.words.embed_tokens = lambda tokens: (flair_calls.append(tokens), embed_tokens(tokens))[1]
    try:
        result = run_search(CAPTION, load_method("four_objective"), system.scorer, system.generator, cfg.search, 0)
    finally:
        del tiny_models.clip.model.encode_text, tiny_models.words.embed_tokens
    n = 6 + 5 * 2
    assert result.evaluations == n
    crops = system.config.critics.region_word.grid ** 2 + int(system.config.critics.region_word.center)
    assert gen.rows == n  # one generator pass per image
    assert cls.rows == n  # one classifier pass per image, shared by image_real and word_label
    assert vis.rows == n * (1 + crops)  # one full-image CLIP pass + one per crop
    assert texts == [1, 3]  # the caption once, its 3 content words once (one batch)
    assert len(flair_calls) == 1  # caption words embedded once per caption


def test_every_method_starts_from_the_same_initial_latents(tiny_system):
    firsts = {}

    class First(Callback):
        def __init__(self):
            self.X = None

        def on_generation(self, record, strategy):
            if record.generation == 0:
                self.X = record.X

    for name in ("no_selection", "best_of_n", "clip_single", "four_objective"):
        cb = First()
        run_search(CAPTION, load_method(name), tiny_system.scorer, tiny_system.generator,
                   tiny_system.config.search, 7, callbacks=[cb])
        firsts[name] = cb.X
    X0 = tiny_system.generator.initial_latents(tiny_system.config.search.population, 7)
    np.testing.assert_array_equal(firsts["no_selection"], X0[:1])
    np.testing.assert_array_equal(firsts["best_of_n"], X0)
    for name in ("clip_single", "four_objective"):  # survivors of generation 0 are X0 itself, reordered
        assert {tuple(r) for r in firsts[name]} == {tuple(r) for r in X0}


def test_equal_budget_and_same_seed_same_result(tiny_system):
    cfg = tiny_system.config.search
    results = {}
    for name in ("best_of_n", "clip_single", "four_objective"):
        a = run_search(CAPTION, load_method(name), tiny_system.scorer, tiny_system.generator, cfg, 3)
        b = run_search(CAPTION, load_method(name), tiny_system.scorer, tiny_system.generator, cfg, 3)
        np.testing.assert_array_equal(a.X, b.X)
        assert a.selected == b.selected
        results[name] = a.evaluations
    assert set(results.values()) == {cfg.budget}


def test_four_objective_improves_hypervolume_and_clip_single_raises_text_image(tiny_models):
    from harness.search.system import build_system

    cfg = small_config("search.population=16", "search.offspring=16", "search.generations=12")
    system = build_system(cfg, models=tiny_models)
    four = run_search(CAPTION, load_method("four_objective"), system.scorer, system.generator, cfg.search, 0)
    hv = [hypervolume(np.stack([r.scores[n] for n in SCORE_NAMES], 1)[r.ranks == 0], RANGES) for r in four.history]
    assert hv[-1] > hv[0]
    single = run_search(CAPTION, load_method("clip_single"), system.scorer, system.generator, cfg.search, 0)
    best = [r.scores["text_image"].max() for r in single.history]
    assert best[-1] > best[0]
    assert all(b2 >= b1 for b1, b2 in zip(best, best[1:]))  # the GA is elitist


def _search_args(out, population=6):
    return ["search", CAPTION, "--method", "four_objective", "--models", "tiny", "--seed", "0", "--out", str(out),
            "--set", f"search.population={population}", "--set", f"search.offspring={population}",
            "--set", "search.generations=3"]


def test_cli_search_writes_outputs_through_the_run_directory_layer(tmp_path):
    from harness.cli.main import main

    out = tmp_path / "cat"
    assert main(_search_args(out, 8)) == 0
    assert main(_search_args(out)) == 0  # its own earlier output is replaced completely: no stale population images
    assert (out / "selected.png").is_file()
    assert len(list((out / "population").glob("*.png"))) == 6
    table = pd.read_parquet(out / "archive.parquet")
    assert list(table.columns) == ARCHIVE_COLUMNS and set(table["caption"]) == {CAPTION}
    assert len(table) == 6 * 3 and set(SCORE_NAMES) <= set(table.columns)
    assert table["selected"].sum() == 1 and table.loc[table["selected"], "generation"].item() == 2
    assert pd.read_csv(out / "scores.csv").shape == table.shape
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "search" and manifest["seeds"] == [0] and list(manifest["methods"]) == ["four_objective"]
    assert manifest["suite"]["captions"][0]["caption"] == CAPTION and manifest["config"]["search"]["population"] == 6
    report = subprocess.run([sys.executable, "-m", "harness", "report", str(out)], capture_output=True, text=True)
    assert report.returncode == 2 and "output of harness search" in report.stderr


def test_cli_search_refuses_a_run_directory_or_a_foreign_folder(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    run_copy = tmp_path / "run"
    shutil.copytree(REPO / "reports" / "reference" / "smoke", run_copy)
    for out, message in ((run_copy, "is a run directory"), (foreign, "did not write")):
        before = tree_digest(out)
        proc = subprocess.run([sys.executable, "-m", "harness", *_search_args(out)], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and tree_digest(out) == before


@pytest.mark.parametrize("args, message", [
    (["search", "", "--models", "tiny"], "caption is empty"),
    (["search", "a cat", "--method", "nope", "--models", "tiny"], "unknown method 'nope'"),
    (["search", "a cat", "--models", "huge"], "profile"),
    (["search", "a cat", "--models", "tiny", "--set", "search.populaton=3"], "unknown key 'search.populaton'"),
    (["search", "a cat", "--models", "tiny", "--set", "critics.image_real.temperature=-1"], "temperature"),
    (["search", "a cat", "--models", "tiny", "--set", "novalue"], "expected key=value"),
])
def test_cli_search_bad_input_is_one_line_exit_2(args, message):
    from harness.cli.main import main

    proc = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert main is not None
