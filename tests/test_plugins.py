"""Plugins without editing the package: the example distribution (tests/plugins/colorfulness: a critic, a judge,
a metric section and a csv importer, registered by entry points) made installable in a temporary folder and used
through the installed console script, as a researcher would; broken plugins are one line, exit 2; runs written
before a plugin existed still read; the seed report's experiment as one command."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tomllib

import pytest
import yaml

from helpers import PLUGINS, REPO, answers_in_one_process, console_script, make_suite

TINY = ["--set", "search.population=4", "--set", "search.offspring=4", "--set", "search.generations=2"]


def install(site, name="harness_colorfulness", version="0.1.0", entry_points=None):
    """A distribution discoverable by importlib.metadata on PYTHONPATH=site: the package and its .dist-info."""
    if name == "harness_colorfulness":
        shutil.copytree(PLUGINS / name, site / name, dirs_exist_ok=True)
        entry_points = tomllib.loads((PLUGINS / "pyproject.toml").read_text())["project"]["entry-points"]
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) + "\n"
        for group, points in entry_points.items()))


def harness(*argv, site=None, timeout=600):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([console_script(), *map(str, argv)], capture_output=True, text=True, env=env,
                          timeout=timeout)


def package_digest() -> str:
    digest = hashlib.sha256()
    for p in sorted((REPO / "harness").rglob("*.py")):
        digest.update(p.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    install(root)
    # a broken plugin no run names: it must stop nothing
    (root / "harness_broken.py").write_text("raise ImportError('this plugin is broken')\n")
    install(root, "harness_broken", entry_points={"harness.critics": {"broken": "harness_broken:Critic"}})
    return root


@pytest.mark.slow
def test_a_plugin_distribution_runs_through_every_command_without_changing_the_package(site, tmp_path):
    before = package_digest()
    base = make_suite(tmp_path / "base", methods=["clip_single", "four_objective"],
                      overrides={"search.population": 4, "search.offspring": 4, "search.generations": 2})
    assert harness("run", base, "--out", tmp_path / "four").returncode == 0  # written before the plugin existed
    five = tmp_path / "five.yaml"
    five.write_text(yaml.safe_dump({"algorithm": "nsga2", "pick": "asf", "description": "the four and colorfulness",
                                    "objectives": ["text_image", "image_real", "region_word", "word_label",
                                                   "colorfulness"]}))
    folder = tmp_path / "plugged"
    folder.mkdir()
    (folder / "captions.csv").write_text("id,caption,tags\ncat,a cat is lay on the table.,normal\n"
                                         "sky,skyline at sunset.,unusual\n")
    (folder / "suite.yaml").write_text(yaml.safe_dump({
        "name": "mini", "captions": {"file": "captions.csv", "format": "csv"}, "models": "tiny",
        "methods": ["clip_single", "four_objective", str(five)], "seeds": [0],
        "metrics": {"evaluators": ["clipscore", "saturation"], "plugins": ["front_share"], "fid_features": "tiny",
                    "bootstrap": 50},
        "overrides": {"search.population": 4, "search.offspring": 4, "search.generations": 2}}))
    run = tmp_path / "run"
    proc = harness("run", folder, "--out", run, site=site)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((run / "manifest.json").read_text())
    colorful = next(c for c in manifest["critics"] if c["name"] == "colorfulness")
    assert colorful["plugin"]["distribution"] == "harness-colorfulness" and len(colorful["plugin"]["sha256"]) == 64
    assert manifest["config"]["critics"]["plugins"] == ["colorfulness"]
    recorded = {p["kind"]: p for p in manifest["plugins"]}
    assert set(recorded) == {"caption importer", "judge", "metric section"}
    for kind, record in recorded.items():  # every kind names its own file and hash, not harness's
        assert record["distribution"] == "harness-colorfulness" and record["version"] == "0.1.0", kind
        assert record["file"].startswith(str(site)) and len(record["sha256"]) == 64, kind
    metrics = json.loads((run / "metrics.json").read_text())
    assert "saturation" in metrics["judges"]["judges"] and "front_share" in metrics
    assert "colorfulness" in metrics["methods"]["five"] and metrics["methods"]["five"]["colorfulness"]["n"] == 2
    report = (run / "report.md").read_text()
    assert "## Picks on the first front" in report and "colorfulness" in report and "saturation" in report
    for argv in (["metrics", run], ["report", run], ["regress", run]):
        proc = harness(*argv, site=site)
        assert proc.returncode == 0, (argv, proc.stderr[-2000:])
    proc = harness("compare", run, tmp_path / "four", "--out", tmp_path / "cmp", site=site)
    assert proc.returncode == 0 and "colorfulness" in " ".join(proc.stderr.split()), proc.stderr[-2000:]
    compared = json.loads((tmp_path / "cmp" / "compare.json").read_text())[0]
    assert "text_image" in compared["methods"]["four_objective"] and "colorfulness" in compared["scores_only_b"]
    proc = harness("search", "a cat", "--models", "tiny", "--method", five, "--out", tmp_path / "s", *TINY, site=site)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "colorfulness" in (tmp_path / "s" / "scores.csv").read_text().splitlines()[0]
    # without the distribution: every command names every missing plugin and its distribution, and how to go on
    for argv, go_on in ((["metrics", run], '--set "metrics.evaluators=[clipscore]" --set "metrics.plugins=[]"'),
                        (["regress", run], '--set "critics.plugins=[]"')):
        proc = harness(*argv)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (argv, proc.stderr[-2000:])
        assert "pip install harness-colorfulness==0.1.0" in lines[0] and go_on in lines[0], lines[0]
        assert harness(*argv, "--set", go_on.split('"')[1], *(["--set", go_on.split('"')[3]] if argv[0] == "metrics"
                                                               else [])).returncode == 0
    proc = harness("report", run)
    assert proc.returncode == 0 and "not installed" in proc.stderr, proc.stderr[-2000:]
    top = (run / "report.md").read_text().split("## Answer", 1)[0]
    for name in ("'colorfulness'", "'front_share'"):
        assert name in top and "pip install harness-colorfulness==0.1.0" in top
    assert package_digest() == before


@pytest.mark.slow
def test_a_generator_plugin_is_recorded_and_named_without_its_argument(site, tmp_path):
    base = make_suite(tmp_path / "base", methods=["clip_single"],
                      overrides={"search.population": 4, "search.offspring": 4, "search.generations": 2})
    proc = harness("run", base, "--set", "models.generator=blobs:3", "--out", tmp_path / "blobs", site=site)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = next(p for p in json.loads((tmp_path / "blobs" / "manifest.json").read_text())["plugins"]
                  if p["kind"] == "generator")
    assert record["name"] == "blobs" and record["distribution"] == "harness-colorfulness"
    assert record["file"].endswith("generator.py") and len(record["sha256"]) == 64
    proc = harness("run", base, "--set", "models.generator=blobs", "--out", tmp_path / "bare", site=site)
    assert proc.returncode == 2 and "--set models.generator=blobs:ARG" in proc.stderr, proc.stderr[-2000:]
    proc = harness("run", base, "--set", "models.generator=blobz", "--out", tmp_path / "bare", site=site)
    assert proc.returncode == 2 and "installed generator plugins (NAME:ARG): blobs" in proc.stderr


@pytest.mark.slow
def test_runs_written_before_a_plugin_still_read_with_it_installed(site, smoke_run, tmp_path):
    for source in (REPO / "reports" / "reference" / "smoke", smoke_run[0]):
        copy = tmp_path / source.name
        shutil.copytree(source, copy)
        proc = harness("report", copy, site=site)
        assert proc.returncode == 0, proc.stderr[-2000:]


BROKEN = [
    (["--set", "critics.plugins=[broken]"], "fails to import: ImportError: this plugin is broken"),
    (["--set", "critics.plugins=[harness_colorfulness.judge:SaturationJudge]"], "not a subclass"),
    (["--set", "critics.plugins=[colorfulness, harness_colorfulness.critic:ColorfulnessCritic]"],
     "two critics are named 'colorfulness'"),
    (["--set", "critics.plugins=[nosuchmodule:Critic]"], "no module 'nosuchmodule'"),
    (["--set", "metrics.evaluators=[nosuchjudge]"], "no judge 'nosuchjudge'"),
    (["--set", "metrics.plugins=[harness_colorfulness.critic:ColorfulnessCritic]"], "is missing `compute`"),
]


def broken_suite(tmp_path):
    return make_suite(tmp_path / "s", methods=["clip_single"],
                      overrides={"search.population": 4, "search.offspring": 4, "search.generations": 2})


def test_broken_plugins_are_one_line_exit_2_and_write_nothing(site, tmp_path):
    """Each broken plugin in one process with the distribution on its path (the console script's main, stderr
    captured per case); the console script itself answers them in the slow test below."""
    suite, out = broken_suite(tmp_path), tmp_path / "out"
    argvs = [["run", str(suite), "--out", str(out), *sets] for sets, _ in BROKEN]
    result = answers_in_one_process(argvs, env={"PYTHONPATH": str(site)})
    for (sets, message), (code, stderr, _) in zip(BROKEN, result["answers"]):
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1 and message in lines[0], (sets, stderr[-2000:])
    assert not out.exists()


@pytest.mark.slow
def test_broken_plugins_through_the_console_script_are_one_line_exit_2(site, tmp_path):
    suite, out = broken_suite(tmp_path), tmp_path / "out"
    for sets, message in BROKEN:
        proc = harness("run", suite, "--out", out, *sets, site=site)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], (sets, proc.stderr[-2000:])
        assert not out.exists()


@pytest.mark.slow
def test_leave_one_out_writes_the_ablation_with_one_row_per_critic_and_shared_latents(tmp_path):
    import numpy as np

    out = tmp_path / "ablate"
    suite = make_suite(tmp_path / "suite", methods=["four_objective"])  # two captions, one seed
    proc = harness("ablate", suite, "--leave-one-out", "four_objective", "--out", out, *TINY)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (out / "critic_ablation.md").read_text()
    assert report.index("> **These numbers come from") < report.index("## Answer")  # warnings first
    assert report.split("\n## ")[1].startswith("Answer")  # then the answer, the first section
    assert "smallest p the Wilcoxon test over captions can reach is 0.5" in report  # 2 captions
    answer = report.split("## Answer", 1)[1].split("\n## ", 1)[0]
    for critic in ("text_image", "image_real", "region_word", "word_label"):
        line = next(x for x in answer.splitlines() if x.startswith(f"- **− {critic}**"))
        assert "held-out judges: pickscore" in line and "in-loop critics: text_image" in line
        assert f"{critic} " in line.split("in-loop critics:")[1]  # the removed critic's own difference
        assert "adjusted p" in line and "not detectable with 2 captions" in line
    assert "it is an ablation" in answer
    inner = json.loads((out / "run" / "metrics.json").read_text())["answer"]
    assert "ablation of four_objective" in inner["skipped"]
    distribution = report.split("## The final distribution, in numbers", 1)[1]
    assert "Δ 10 % quantile" in distribution and "Wasserstein-1" in distribution and "Δ hypervolume" in distribution
    assert "score only the picked image" in distribution
    data = json.loads((out / "critic_ablation.json").read_text())
    for row in data["variants"]:
        assert set(row["distribution"]["critics"]) == {"text_image", "image_real", "region_word", "word_label"}
        assert {"q10", "q50", "q90", "w1"} <= set(row["distribution"]["critics"]["image_real"])
        assert row["distribution"]["diversity"]["clip_distance"]["captions"] == 2
    for kind in ("effect_four_objective-without-image_real", "population_cat", "picked_cat"):
        assert (out / "figures" / f"{kind}.png").is_file() and (out / "figures" / f"{kind}.svg").is_file(), kind
    assert "figures/population_cat.png" in report and "figures/effect_four_objective-without-image_real.png" in report
    archive = __import__("pandas").read_parquet(out / "run" / "archive.parquet")
    first = archive[archive["generation"] == 0]
    for (cid, seed), group in first.groupby(["caption_id", "seed"]):
        variants = [sorted(map(tuple, np.round(g[["text_image", "image_real", "region_word"]].to_numpy(), 12)))
                    for _, g in group.groupby("method")]
        assert len(variants) == 5 and all(v == variants[0] for v in variants)  # the same initial population


@pytest.mark.slow
def test_add_critic_with_controls_answers_the_added_critics_own_difference_and_against_the_controls(site, tmp_path):
    out = tmp_path / "ablate"
    suite = make_suite(tmp_path / "suite", methods=["four_objective"])
    proc = harness("ablate", suite, "--add-critic", "colorfulness", "--with-controls", "--caption-figures", "1",
                   "--out", out, *TINY, site=site)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (out / "critic_ablation.md").read_text()
    line = next(x for x in report.splitlines() if x.startswith("- **+ colorfulness**"))
    assert "colorfulness " in line.split("in-loop critics:")[1] and "adjusted p" in line
    manifest = json.loads((out / "run" / "manifest.json").read_text())
    assert list(manifest["methods"]) == ["four_objective", "four_objective-with-colorfulness", "best_of_n",
                                         "no_selection"]
    controls = report.split("Against the controls", 1)[1].split("\n\n|", 1)[0]
    assert "four_objective-with-colorfulness and best_of_n" in controls
    assert "four_objective-with-colorfulness and no_selection" in controls
    assert len(list((out / "figures").glob("population_*.png"))) == 1  # --caption-figures 1
    strip = report.split("## Failed captions", 1)[1]
    assert "without search" in strip and "needs `--with-controls`" not in strip
