"""Wall time and peak memory of the analysis commands on a run directory (e.g. one made by
benchmarks/synthetic_run.py), each as a user runs it: the installed `harness` in a subprocess under
/usr/bin/time. `harness metrics` also reports its phases (metrics.json `timings`).

    python benchmarks/analysis_timing.py /tmp/synthetic --other /tmp/synthetic-b --out timing.json
    python benchmarks/analysis_timing.py /tmp/syn12 --commands metrics --set "metrics.evaluators=[clipscore]"
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
from pathlib import Path


def timed(argv: list[str]) -> dict:
    """Run `argv` under /usr/bin/time -v: wall seconds, peak RSS in MiB, exit code."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - t0
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return {"command": " ".join(argv), "seconds": round(wall, 2), "peak_rss_mib": int(rss.group(1)) // 1024 if rss else None,
            "rc": proc.returncode, "tail": proc.stderr.strip().splitlines()[-25:-23] if proc.returncode else []}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--other", type=Path, help="a second run directory for `harness compare`")
    parser.add_argument("--commands", default="metrics,report,report-pick,compare,regress")
    parser.add_argument("--set", action="append", default=[], help="--set for harness metrics")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    commands = {"metrics": ["harness", "metrics", str(args.run), *[x for s in args.set for x in ("--set", s)]],
                "report": ["harness", "report", str(args.run)],
                "report-pick": ["harness", "report", str(args.run), "--pick", "knee"],
                "compare": ["harness", "compare", str(args.run), str(args.other or args.run)],
                "regress": ["harness", "regress", str(args.run), "--selected-only"]}
    rows = []
    for name in args.commands.split(","):
        row = {"name": name, **timed(commands[name])}
        if name == "metrics":
            metrics = json.loads((args.run / "metrics.json").read_text())
            row["phases"] = metrics.get("timings")
            row["cache"] = metrics.get("cache")
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
