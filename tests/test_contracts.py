"""Every extension point's contract is stated once (harness.contracts), docs/plugins.md's tables are that statement,
a critic written from the docs alone runs first time, and a plugin missing a member, or with one mistyped, is one
line naming the member and the plugin, exit 2, before any model loads."""
from __future__ import annotations

import os
import re
import subprocess
import textwrap

import pytest

from harness.contracts import CONTRACTS
from helpers import REPO, console_script

DOCS = REPO / "docs" / "plugins.md"
TINY = ["--models", "tiny", "--set", "search.population=4", "--set", "search.offspring=4",
        "--set", "search.generations=2"]


def documented() -> dict[str, list[tuple[str, str, str, bool]]]:
    """kind -> [(member, kind, type, required)] from the tables under '### KIND' in docs/plugins.md."""
    out, kind = {}, None
    for line in DOCS.read_text().splitlines():
        if line.startswith("### "):
            kind = line[4:].strip()
            out[kind] = []
        elif kind and line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            out[kind].append((cells[0].strip("`"), cells[1], cells[2], cells[3].startswith("yes")))
    return out


def test_the_docs_contract_tables_are_the_contracts_in_the_code():
    docs = documented()
    assert set(docs) == set(CONTRACTS)
    for kind, members in CONTRACTS.items():
        assert docs[kind] == [(m.name, m.kind, m.type, m.required) for m in members], kind


def docs_critic() -> str:
    """The example critic of docs/plugins.md, verbatim."""
    text = DOCS.read_text().split("### critic", 1)[1]
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def run(tmp_path, module: str, source: str, *argv):
    (tmp_path / f"{module}.py").write_text(source)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([console_script(), *argv], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)


@pytest.mark.slow
def test_a_critic_written_from_the_docs_alone_runs_first_time(tmp_path):
    proc = run(tmp_path, "bright", docs_critic(), "search", "a cat", "--set", "critics.plugins=[bright:Brightness]",
               "--out", tmp_path / "out", *TINY)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "brightness" in (tmp_path / "out" / "scores.csv").read_text().splitlines()[0]


BROKEN = {
    "no _backbones": (lambda s: re.sub(r"    def _backbones\(self\):\n        return \{\}\n\n", "", s),
                      "does not implement `_backbones`"),
    "score_range None": (lambda s: s.replace("score_range = (0.0, 1.0)", "score_range = None"),
                         "has `score_range` = None, which is not a tuple (low, high)"),
    "inverted range": (lambda s: s.replace("score_range = (0.0, 1.0)", "score_range = (1.0, 0.0)"),
                       "has `score_range` = (1.0, 0.0)"),
    "settings not a dataclass": (lambda s: s.replace('    name = "brightness"', '    name = "brightness"\n'
                                                                                   '    settings = 3'),
                                 "has `settings` = 3, which is not a dataclass type"),
}


def test_a_critic_missing_or_mistyping_a_member_is_one_line_naming_it(tmp_path):
    """Each broken critic through the console script's main, all in one interpreter (stderr captured per case)."""
    from helpers import answers_in_one_process

    argvs = []
    for i, case in enumerate(sorted(BROKEN)):
        source = BROKEN[case][0](docs_critic())
        assert source != docs_critic(), case
        (tmp_path / f"bright{i}.py").write_text(source)
        argvs.append(["search", "a cat", "--set", f"critics.plugins=[bright{i}:Brightness]", "--out",
                      str(tmp_path / "out"), *TINY])
    result = answers_in_one_process(argvs, env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
    for i, (case, (code, stderr, _)) in enumerate(zip(sorted(BROKEN), result["answers"])):
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "Traceback" not in stderr, (case, stderr)
        assert BROKEN[case][1] in lines[0] and f"'bright{i}:Brightness'" in lines[0], (case, lines[0])
        assert "docs/plugins.md" in lines[0]
    assert not (tmp_path / "out").exists()  # refused as the plugin loads, before any model or output


def test_other_kinds_are_checked_against_their_contracts():
    from harness.contracts import check
    from harness.errors import HarnessError

    class Section:
        name = "x"

    with pytest.raises(HarnessError, match=r"metric section plugin 'm:S' is missing `compute`"):
        check(Section(), "metric section", "m:S", "metrics.plugins")

    class Judge:
        files = None

    with pytest.raises(HarnessError, match=r"is missing `load` \(class method"):
        check(Judge, "judge", "j:J", "metrics.evaluators")

    class Generator:
        @classmethod
        def load_net(cls, arg, profile, device, cache_dir): ...

    with pytest.raises(HarnessError) as err:
        check(Generator, "generator", "g:G", "models.generator")
    for member in ("from_config", "_bounds", "_initial", "_decode"):  # every missing member, in one line
        assert f"`{member}`" in str(err.value)
    assert "load_net" not in str(err.value)


def test_harness_config_lists_the_settings_of_a_plugin_critic_named_with_set(tmp_path):
    source = docs_critic().replace("import torch\n", "import torch\nfrom dataclasses import dataclass\n\n\n"
                                   "@dataclass\nclass Settings:\n    gain: float = 2.0  # multiplies the brightness\n")
    source = source.replace('    score_range = (0.0, 1.0)', '    score_range = (0.0, 1.0)\n    settings = Settings')
    proc = run(tmp_path, "bright", source, "config", "critics", "--set", "critics.plugins=[bright:Brightness]")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "critics.brightness.gain" in proc.stdout and "multiplies the brightness" in proc.stdout


def test_python_m_harness_cli_main_lists_the_commands_as_python_m_harness_does():
    import sys

    for module in ("harness", "harness.cli.main"):
        proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and "ablate" in proc.stdout and "regress" in proc.stdout, (module, proc.stdout)


def test_a_critic_no_method_optimises_is_reported_as_scored_only():
    from harness.report.markdown import _summary, scored_only

    manifest = {"methods": {"clip_single": {"objectives": ["text_image"]},
                            "four_objective": {"objectives": ["text_image", "image_real", "region_word",
                                                              "word_label"]}}}
    critics = ["text_image", "image_real", "region_word", "word_label", "colorfulness"]
    assert scored_only(manifest, critics) == ["colorfulness"]
    import pandas as pd

    archive = pd.DataFrame([{"method": "clip_single", "selected": True, **{c: 0.5 for c in critics}}])
    text = "\n".join(_summary(archive, None, ["clip_single"], critics, ["colorfulness"]))
    assert "colorfulness ↑ (scored only)" in text and "Scored only: colorfulness" in text
    assert "text_image ↑ (scored only)" not in text
