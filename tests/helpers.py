"""Helpers shared by the tests (imported as `helpers`; pytest puts tests/ on sys.path)."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PLUGINS = REPO / "tests" / "plugins" / "colorfulness"  # the example plugin distribution (README: Adding one thing)
SHARED_CAPTIONS = REPO.parent / "shared" / "data" / "captions"


def small_config(*sets: str):
    from harness.config.run import build_run_config

    base = ["search.population=8", "search.offspring=8", "search.generations=4"]
    return build_run_config(sets=base + list(sets), models__profile="tiny")


def make_suite(folder: Path, caption_list=None, **fields) -> Path:
    """A tiny-profile suite in `folder` (2 captions, 2 methods, small budget) with `fields` replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    caps = caption_list if caption_list is not None else [
        {"id": "cat", "caption": "a cat is lay on the table."},
        {"id": "sky", "caption": "skyline at sunset."}]
    if isinstance(caps, str):
        (folder / "captions.yaml").write_text(caps)
    else:
        (folder / "captions.yaml").write_text(yaml.safe_dump(caps))
    suite = {"name": "mini", "captions": "captions.yaml", "methods": ["clip_single", "four_objective"],
             "seeds": [0], "models": "tiny", "metrics": {"evaluator_clip": "search", "fid_features": "tiny",
                                                         "bootstrap": 50},
             "overrides": {"search.population": 6, "search.offspring": 6, "search.generations": 3}}
    suite.update(fields)
    (folder / "suite.yaml").write_text(yaml.safe_dump(suite))
    return folder


def console_script() -> str:
    """The installed `harness` console script of this interpreter's environment (beside sys.executable, so an
    un-activated venv/bin/python -m pytest finds it), else the one on PATH."""
    import shutil

    here = Path(sys.executable).parent / "harness"
    found = str(here) if here.is_file() else shutil.which("harness")
    if not found:
        raise RuntimeError("the harness console script is not installed (pip install -e .)")
    return found


def harness_cli(*args, timeout=600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, **kw)


ONE_PROCESS = """import contextlib, io, json, sys, time
from harness.cli.main import main
answers = []
for argv in json.loads(sys.argv[1]):
    err, start = io.StringIO(), time.time()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    answers.append([code, err.getvalue(), time.time() - start])
print(json.dumps({"answers": answers, "torch": "torch" in sys.modules}))
"""


def answers_in_one_process(argvs, env=None, cwd=None, timeout=300) -> dict:
    """Each argv through the console script's main() in one fresh interpreter, stderr captured per case:
    {"answers": [[exit code, stderr, seconds], ...], "torch": whether torch was imported}."""
    import json
    import os

    proc = subprocess.run([sys.executable, "-c", ONE_PROCESS, json.dumps([[str(a) for a in v] for v in argvs])],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    return json.loads(proc.stdout.strip().splitlines()[-1])


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (to prove a directory was left intact)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


def strict_json_files(folder: Path) -> int:
    """Parse every .json under folder as RFC 8259 does (NaN, Infinity and -Infinity refused); the count."""
    import json

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    files = sorted(Path(folder).rglob("*.json"))
    for path in files:
        try:
            json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
        except ValueError as exc:
            raise AssertionError(f"{path}: {exc}") from exc
    return len(files)


def live_manifest(folder: Path) -> dict | None:
    """The manifest of a run directory as the harness reads it (manifest.json with the job journal folded in),
    or None while there is none yet: what a test polling a running process should look at."""
    from harness.errors import HarnessError
    from harness.rundir import RunDir

    try:
        return RunDir(folder).read_manifest()
    except HarnessError:  # caught between two writes
        return None
