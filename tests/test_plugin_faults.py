"""A misbehaving plugin is the plugin's fault, and it is contained: whatever a critic or judge plugin raises, exits
with, or returns out of its contract (not one finite number per image, outside its declared range) is one line
naming the plugin and what it did, exit 2, before any job runs and with nothing written; the critic's faults show on
a probe batch of two images once the models load, the judge's as the run starts, not after every job ran."""
from __future__ import annotations

import re

import pytest

from helpers import PLUGINS, REPO, answers_in_one_process, make_suite

DOCS_CRITIC = re.search(r"```python\n(.*?)```", (REPO / "docs" / "plugins.md").read_text().split("### critic", 1)[1],
                        re.S).group(1)
SCORE = "return features.images.mean(dim=(1, 2, 3))"
CRITICS = {  # name: (the critic's source, what the line says)
    "NaN": (DOCS_CRITIC.replace(SCORE, SCORE + ' * float("nan")'), "returned 2 non-finite score(s) of 2 (first: nan)"),
    "+inf": (DOCS_CRITIC.replace(SCORE, SCORE + ' + float("inf")'), "non-finite score(s) of 2 (first: inf)"),
    "[N, 2]": (DOCS_CRITIC.replace(SCORE, "return features.images.mean(dim=(2, 3))[:, :2]"), "expected 2 scores, got (2, 2)"),
    "N + 3": (DOCS_CRITIC.replace(SCORE, "return torch.zeros(len(features.images) + 3)"), "expected 2 scores, got (5,)"),
    "a string": (DOCS_CRITIC.replace(SCORE, 'return "high"'), "_score returned str, not a float tensor [B]"),
    "a numpy array": (DOCS_CRITIC.replace(SCORE, SCORE + ".numpy()"), "_score returned ndarray, not a float tensor"),
    "raises": (DOCS_CRITIC.replace(SCORE, 'raise ValueError("boom")'), "failed while scoring 2 image(s): ValueError: boom"),
    "7.5 with range (0, 1)": (DOCS_CRITIC.replace(SCORE, SCORE + " + 7.5"), "outside its declared score_range (0.0, 1.0)"),
    "sys.exit(0) in scoring": (DOCS_CRITIC.replace(SCORE, "import sys; sys.exit(0)"), "called sys.exit(0)"),
    "sys.exit(3) on import": ("import sys\nsys.exit(3)\n" + DOCS_CRITIC, "fails to import: called sys.exit(3)"),
}
JUDGE = (PLUGINS / "harness_colorfulness" / "judge.py").read_text()
JSCORE = "return saturation.flatten(1).mean(1).numpy()"
JUDGES = {
    "42 with range (0, 1)": (JUDGE.replace(JSCORE, JSCORE + " + 42"), "returned 42, outside its declared score_range"),
    "N - 1 scores": (JUDGE.replace(JSCORE, JSCORE + "[:-1]"), "returned 1 score(s) of shape (1,) for 2 image(s)"),
    "load raises": (JUDGE.replace("        return cls()", '        raise RuntimeError("no weights")'),
                    "fails to load: RuntimeError: no weights"),
    "score raises": (JUDGE.replace("        x = images.double()", '        raise KeyError("caption")'),
                     "failed while scoring 2 image(s): KeyError: 'caption'"),
}


def answers(tmp_path, kind: str, cases: dict, argv) -> None:
    suite = make_suite(tmp_path / "suite", methods=["clip_single"],
                      overrides={"search.population": 4, "search.offspring": 4, "search.generations": 2})
    argvs = []
    for i, (source, _) in enumerate(cases.values()):
        (tmp_path / f"plug{i}.py").write_text(source)
        argvs.append(["run", str(suite), "--out", str(tmp_path / "out"), *argv(f"plug{i}")])
    result = answers_in_one_process(argvs, env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
    for i, ((case, (_, message)), (code, stderr, _)) in enumerate(zip(cases.items(), result["answers"])):
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "Traceback" not in stderr, (case, stderr[-2000:])
        assert f"the {kind} plugin" in lines[0] and f"plug{i}" in lines[0] and message in lines[0], (case, lines[0])
    assert not (tmp_path / "out").exists()


def test_a_critic_plugin_exiting_on_import_is_one_line(tmp_path):
    answers(tmp_path, "critic", {"sys.exit(3) on import": CRITICS["sys.exit(3) on import"]},
            lambda module: ["--set", f"critics.plugins=[{module}:Brightness]"])


@pytest.mark.slow
def test_every_misbehaving_critic_plugin_is_one_line_before_any_job(tmp_path):
    answers(tmp_path, "critic", CRITICS, lambda module: ["--set", f"critics.plugins=[{module}:Brightness]"])


@pytest.mark.slow
def test_every_misbehaving_judge_plugin_is_one_line_before_any_job(tmp_path):
    answers(tmp_path, "judge", JUDGES, lambda module: ["--set", f"metrics.evaluators=[clipscore, {module}:SaturationJudge]"])
