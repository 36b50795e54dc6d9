"""A synthetic run directory at real size, for timing the analysis (metrics, report, compare, regress)
without running a search.

    python benchmarks/synthetic_run.py --out /tmp/synthetic --captions 21 --seeds 3          # 252 jobs
    python benchmarks/synthetic_run.py --out /tmp/syn12 --captions 1 --seeds 3             # 12 jobs

The real layout, manifest (schema 2, suite failed_captions' captions, the four baselines, every pick
policy's stored pick) and archive schema, at the real sizes: population 100 x 50 generations of
archive rows per evolutionary and best_of_n job, 1 row for no_selection; selected and final-population
PNGs at --size px (smooth random images, so they compress like generated ones). Scores are drawn so
that the statistics have known values: within a population the four scores are normal with Spearman
correlations close to CORRELATION; per method the text_image mean is shifted by SHIFT (four_objective
+0.02 over best_of_n, clip_single +0.01, no_selection -0.02). The metrics settings are the `random`
profile with `fid_features=clip` (no weights needed). --no-population-png skips the population PNGs
(the 1008-job growth point).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

CORRELATION = np.array([[1.0, 0.3, 0.5, 0.1], [0.3, 1.0, 0.2, 0.4], [0.5, 0.2, 1.0, 0.1], [0.1, 0.4, 0.1, 1.0]])
MEANS = np.array([0.25, 0.3, 0.22, 0.5])
SCALES = np.array([0.03, 0.1, 0.02, 0.05])
SHIFT = {"no_selection": -0.02, "best_of_n": 0.0, "clip_single": 0.01, "four_objective": 0.02}


def smooth_images(rng, n: int, size: int) -> np.ndarray:
    """n uint8 images [n, 3, size, size]: random 8 x 8 colour grids, bilinearly upsampled."""
    import torch

    grid = torch.from_numpy(rng.random((n, 3, 8, 8), dtype=np.float32))
    up = torch.nn.functional.interpolate(grid, size=(size, size), mode="bilinear", align_corners=False)
    return (up * 255).round().clamp(0, 255).to(torch.uint8).numpy()


def job_archive(rng, key, caption: str, method: str, generations: int, population: int) -> pd.DataFrame:
    from harness.critics import SCORE_NAMES
    from harness.rundir.archive import ARCHIVE_COLUMNS
    from harness.search.pick import pareto_ranks

    gens = 1 if method == "no_selection" else generations
    pop = 1 if method == "no_selection" else population
    n = gens * pop
    scores = rng.multivariate_normal(np.zeros(4), CORRELATION, size=n) * SCALES + MEANS
    scores[:, 0] += SHIFT[method] + np.repeat(np.linspace(0.0, 0.03, gens), pop)  # improves over generations
    frame = pd.DataFrame({"suite": "failed_captions", "caption_id": key.caption_id, "caption": caption,
                          "method": method, "seed": np.int64(key.seed),
                          "generation": np.repeat(np.arange(gens, dtype=np.int64), pop),
                          "individual": np.tile(np.arange(pop, dtype=np.int64), gens),
                          **{name: scores[:, i] for i, name in enumerate(SCORE_NAMES)}})
    objectives = [0] if method == "clip_single" else [0, 1, 2, 3]
    frame["pareto_rank"] = np.concatenate([pareto_ranks(scores[g * pop:(g + 1) * pop][:, objectives])
                                           for g in range(gens)])
    frame["selected"] = False
    frame["evaluations"] = (frame["generation"] + 1) * pop
    frame["top_class"] = rng.integers(0, 1000, n)
    frame["top_class_weight"] = 1.0
    frame["effective_classes"] = 1.0
    return frame[ARCHIVE_COLUMNS]


def build(out: Path, captions: int, seeds: int, generations: int, population: int, size: int,
          population_png: bool = True, seed: int = 0) -> dict:
    from harness.config.run import build_run_config
    from harness.critics import SCORE_NAMES
    from harness.rundir import JobKey, RunDir
    from harness.rundir import manifest as mf
    from harness.rundir.files import write_json, write_npz, write_parquet
    from harness.search import load_method
    from harness.search.pick import all_picks
    from harness.suites.suite import load_suite
    from harness.rundir.files import save_png

    rng = np.random.default_rng(seed)
    suite = load_suite(Path(__file__).resolve().parents[1] / "suites" / "failed_captions", models="random",
                       sets=["metrics.fid_features=clip"])
    caps = (suite.captions * (captions // len(suite.captions) + 1))[:captions]
    caps = [(f"{c.id}" if i < len(suite.captions) else f"{c.id}-{i}", c.text) for i, c in enumerate(caps)]
    methods = [load_method(m) for m in ("no_selection", "best_of_n", "clip_single", "four_objective")]
    keys = [JobKey(cid, m.name, s) for cid, _ in caps for m in methods for s in range(seeds)]
    record = mf.suite_record(suite)
    record["captions"] = [{"id": cid, "caption": text, "tags": []} for cid, text in caps]
    run = build_run_config({"search": {"population": population, "offspring": population,
                                       "generations": generations}, "metrics": {"fid_features": "clip"}},
                           models__profile="random")
    manifest = mf.base_manifest("run", record, run, methods, list(range(seeds)), keys, {"profile": "random"})
    rundir = RunDir(out)
    t0 = time.perf_counter()
    texts = dict(caps)
    by_method = {m.name: m for m in methods}
    for rec, key in zip(manifest["jobs"], keys):
        method = by_method[key.method]
        rows = job_archive(rng, key, texts[key.caption_id], key.method, generations, population)
        last = rows[rows["generation"] == rows["generation"].max()]
        named = {n: last[n].to_numpy() for n in SCORE_NAMES}
        index = [SCORE_NAMES.index(o) for o in method.objectives]
        picks = all_picks(last[list(SCORE_NAMES)].to_numpy()[:, index], named)
        selected = picks[method.pick]
        rows.loc[last.index[selected], "selected"] = True
        images = smooth_images(rng, len(last), size)
        folder = rundir.job_dir(key)
        save_png(folder / "selected.png", images[selected])
        for i in range(len(last) if population_png else 0):
            save_png(folder / "population" / f"{i:04d}.png", images[i])
        write_npz(folder / "latents.npz", latents=rng.standard_normal((len(last), 130)), selected=selected)
        result = {**key.record(), "caption": texts[key.caption_id], "pick": method.pick, "selected": selected,
                  "picks": picks, "evaluations": int(rows["evaluations"].max()),
                  "selected_scores": {n: float(named[n][selected]) for n in SCORE_NAMES}}
        write_json(folder / "result.json", result)
        write_parquet(folder / "archive.parquet", rows)
        rec.update(status="done", folder=str(folder.relative_to(out)), attempts=1, selected=selected, picks=picks,
                   evaluations=result["evaluations"], selected_scores=result["selected_scores"],
                   seconds=float(rng.uniform(20, 30)))
    manifest["ended"] = mf.now()
    rundir.write_manifest(manifest)
    rundir.write_archive(keys)
    return {"jobs": len(keys), "seconds": time.perf_counter() - t0}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--captions", type=int, default=21)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--no-population-png", action="store_true")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the drawn scores and images")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} exists and is not empty")
    info = build(args.out, args.captions, args.seeds, args.generations, args.population, args.size,
                 not args.no_population_png, args.seed)
    print(f"wrote {info['jobs']} jobs to {args.out} in {info['seconds']:.0f} s")


if __name__ == "__main__":
    main()
