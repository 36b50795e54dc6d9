"""Every shell command shown in README.md and docs/ is run, as a user would type it, so the docs cannot drift from
the product. The commands run in one working folder (copies of suites/ and baselines/, the example plugin
distribution on the path) in the order the pages are read, so a command may read what an earlier one wrote.
Each ends in exit 0, or, where it needs what no machine here has (real weights, a GPU, a network), in exit 2
with one line saying so. The quick commands that need no earlier output also run in the default test run.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from helpers import REPO, console_script

PAGES = ["README.md", "docs/suites.md", "docs/commands.md", "docs/run-directory.md", "docs/statistics.md",
         "docs/models.md", "docs/system.md", "docs/architecture.md", "docs/plugins.md"]
LACKS = re.compile(r"missing from the local caches|not in the local|CUDA|cuda|offline|network|weights")
NOT_RUN = {  # the commands no test runs here, and why (each is exactly what it says)
    "python -m pytest -q": "the test command itself: .ci/run runs exactly it (checked below)",
    "ray start --head --port=6379": "starts a Ray head daemon on the machine; the Ray tests start a local "
                                    "instance through harness run --executor ray instead",
    "ray start --address=HEAD_IP:6379": "joins another machine's Ray head (HEAD_IP names it)",
}
QUICK = ("harness models check default",)  # seconds each; the rest read earlier outputs or take from 10 s to a
# minute (the front page's first search included): the slow test runs them


def commands(page: str) -> list[str]:
    """The shell commands of a page's ```bash blocks: continuation lines joined, comments dropped."""
    out, block = [], None
    for line in (REPO / page).read_text().splitlines():
        if line.startswith("```bash"):
            block = []
        elif line.startswith("```") and block is not None:
            text = "\n".join(block).replace("\\\n", " ")
            for cmd in text.splitlines():
                cmd = cmd.split(" # ")[0].strip() if not cmd.lstrip().startswith("#") else ""
                if cmd:
                    out.append(re.sub(r"\s+", " ", cmd))
            block = None
        elif block is not None:
            block.append(line)
    return out


def every_command() -> list[tuple[str, str]]:
    return [(page, cmd) for page in PAGES for cmd in commands(page)]


def test_every_page_is_listed_and_every_unrun_command_is_named_with_its_reason():
    pages = {"README.md", *(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))}
    assert pages == set(PAGES)
    shown = {cmd for _, cmd in every_command()}
    assert set(NOT_RUN) <= shown  # an exception no page shows any more goes
    ci = (REPO / ".ci" / "run").read_text()
    assert "python3 -m pytest -q --basetemp" in ci and "README's test command" in ci


def test_the_readme_is_a_front_page():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    for page in PAGES[1:]:
        assert f"({page})" in text, page  # it says where to read on


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder as a user's checkout: suites/ (copied: failures appends to one), baselines/, the example plugin
    distribution, and a site folder on the path where `pip install -e` of it is made importable."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(REPO / "suites", root / "suites")
    shutil.copytree(REPO / "baselines", root / "baselines")
    shutil.copytree(REPO / "tests" / "plugins", root / "tests" / "plugins")
    from test_plugins import install

    site = root / "site"
    install(site)
    return root, site


def run(cmd: str, root, site, timeout: int = 900) -> subprocess.CompletedProcess:
    argv = shlex.split(cmd)
    if argv[0] == "harness":
        argv[0] = console_script()
    elif argv[0] == "pip":  # resolve and build, install nothing: the environment under test stays as it is
        argv = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-build-isolation",
                "--no-index", *argv[2:]]
        argv = [a.replace(".[test]", f"{REPO}[test]") if a.startswith(".[") else
                (str(root / a) if a.startswith("tests/") else a) for a in argv]
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "COLUMNS": "160"}
    return subprocess.run(argv, capture_output=True, text=True, cwd=root, env=env, timeout=timeout)


def check(cmd: str, proc: subprocess.CompletedProcess) -> None:
    if proc.returncode == 0:
        return
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines and lines[0].startswith("error: ") and LACKS.search(lines[0]), \
        (cmd, proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, (cmd, proc.stderr[-3000:])


@pytest.mark.parametrize("cmd", sorted({c for _, c in every_command() if any(q in c for q in QUICK)
                                        and c not in NOT_RUN}))
def test_the_quick_commands_of_the_docs_run(cmd, workdir):
    root, site = workdir
    check(cmd, run(cmd, root, site))


@pytest.mark.slow
def test_every_command_of_the_docs_runs_in_reading_order(workdir):
    root, site = workdir
    for page, cmd in every_command():
        if cmd in NOT_RUN:
            continue
        check(f"{page}: {cmd}", run(cmd, root, site))
    assert (root / "reports" / "smoke" / "report.md").is_file()
    assert (root / "reports" / "ablate-smoke-four_objective" / "critic_ablation.md").is_file()
