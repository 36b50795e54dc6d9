"""The single-caption API: `search_caption(...)` runs one method on one caption and writes its outputs."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.config.methods import load_method
from harness.config.run import build_run_config
from harness.io import save_png, write_parquet
from harness.search import SearchResult, run_search
from harness.system import System, build_system


def history_frame(result: SearchResult) -> pd.DataFrame:
    """One row per individual per generation: generation, individual, the four scores, rank, selected."""
    frames = []
    for rec in result.history:
        frame = pd.DataFrame({"generation": rec.generation, "individual": range(len(rec.X)), **rec.scores,
                              "pareto_rank": rec.ranks, "evaluations": rec.evaluations})
        frame["selected"] = False
        if rec.selected is not None:
            frame.loc[rec.selected, "selected"] = True
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_search_outputs(result: SearchResult, out: Path) -> None:
    """selected.png, population/NNNN.png, scores.csv and scores.parquet under `out`."""
    out = Path(out)
    save_png(out / "selected.png", result.selected_image)
    for i, image in enumerate(result.images):
        save_png(out / "population" / f"{i:04d}.png", image)
    frame = history_frame(result)
    frame.to_csv(out / "scores.csv", index=False)
    write_parquet(out / "scores.parquet", frame)


def search_caption(caption: str, method: str = "four_objective", models: str = "tiny", seed: int = 0,
                   out: Path | None = None, sets: list[str] | tuple = (), device: str | None = None,
                   callbacks=(), system: System | None = None) -> SearchResult:
    """Turn `caption` into an image with `method`; write the outputs to `out` when given.

    sets: `key=value` overrides of any RunConfig field, e.g. "search.generations=5".
    """
    method_cfg = load_method(method)
    if system is None:
        cfg = build_run_config(sets=sets, models__profile=models, device=device)
        system = build_system(cfg)
    result = run_search(caption, method_cfg, system.scorer, system.generator, system.config.search, seed,
                        callbacks=callbacks)
    if out is not None:
        write_search_outputs(result, Path(out))
    return result
