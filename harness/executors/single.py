"""One caption, one method, one seed (`harness search` and the Python API), written through the
run-directory layer: a directory of kind `search` whose one job folder is the directory itself."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import harness.tiny  # noqa: F401  (the tiny profile's builders: search_caption(models="tiny") works offline)
from harness.config.run import build_run_config
from harness.rundir import JobKey, RunDir
from harness.rundir import manifest as mf
from harness.rundir.archive import generation_rows
from harness.rundir.search_output import CAPTION_ID, prepare_search_out
from harness.search import SearchResult, load_method, run_search
from harness.search.system import System, build_system

def history_rows(result: SearchResult, key: JobKey) -> pd.DataFrame:
    return pd.concat([generation_rows("search", key, result.caption, rec) for rec in result.history],
                     ignore_index=True)


def write_search(out: Path, result: SearchResult, system: System, method, seed: int, warnings=(),
                 locked: bool = False) -> None:
    """The search's output folder: manifest (kind search), archive (the run archive's schema), images; under the
    folder's lock (`locked`: the caller holds it)."""
    import contextlib

    rundir = RunDir(out)
    key = JobKey(CAPTION_ID, method.name, int(seed))
    with contextlib.nullcontext() if locked else rundir:
        prepare_search_out(out, clear=True)
        suite = {"name": "search", "version": 1, "folder": None, "description": "harness search",
                 "captions": [{"id": CAPTION_ID, "caption": result.caption, "tags": []}], "warnings": list(warnings)}
        from harness.critics import critic_specs

        critics = [spec.record() for spec in critic_specs(system.config.critics.plugins)]
        manifest = mf.base_manifest("search", suite, system.config, [method], [seed], [key], system.models.describe(),
                                    critics)
        manifest["jobs"][0].update(folder=".", status="done", attempts=1, evaluations=result.evaluations, **result.spent,
                                   selected=result.selected, picks=result.picks,
                                   selected_scores=result.selected_scores)
        manifest["sessions"] = [{"started": manifest["started"], "argv": sys.argv[1:], "executor": "local"}]
        rows = history_rows(result, key)
        rundir.write_manifest(manifest)
        rundir.write_job(key, result.caption, result, rows)
        rows.to_csv(rundir.path / "scores.csv", index=False)
        manifest["ended"] = mf.now()
        rundir.write_manifest(manifest)


def search_caption(caption: str, method: str = "four_objective", models: str = "tiny", seed: int = 0,
                   out: Path | None = None, sets: list[str] | tuple = (), device: str | None = None,
                   callbacks=(), system: System | None = None, warnings=(), locked: bool = False) -> SearchResult:
    """Turn `caption` into an image with `method`; write the outputs to `out` when given.

    sets: `key=value` overrides of any RunConfig field, e.g. "search.generations=5".
    """
    held = None
    if out is not None and not locked:  # `locked`: the caller holds out's lock (the CLI, from before models load)
        held = RunDir(Path(out)).lock()  # for the whole search: a second search into this folder is refused now
    try:
        if out is not None:
            prepare_search_out(Path(out))  # before any compute, under the lock
        if system is None:
            system = build_system(build_run_config(sets=sets, models__profile=models, device=device))
        method_cfg = load_method(method, critics=system.scorer.names)
        result = run_search(caption, method_cfg, system.scorer, system.generator, system.config.search, seed,
                            callbacks=callbacks)
        if out is not None:
            write_search(Path(out), result, system, method_cfg, seed, warnings, locked=True)
    finally:
        if held is not None:
            held.unlock()
    return result
