"""The output folder of `harness search`: a run directory of kind `search` whose one job folder is
the directory itself. It is written only into a new or empty folder or over its own earlier output."""
from __future__ import annotations

import shutil
from pathlib import Path

from harness.errors import ConfigError
from harness.rundir import layout
from harness.rundir.rundir import RunDir

CAPTION_ID = "caption"
SEARCH_OUTPUTS = (layout.MANIFEST, layout.ARCHIVE, layout.SELECTED_PNG, layout.POPULATION, layout.LATENTS,
                  layout.RESULT, "scores.csv")


def prepare_search_out(out: Path, clear: bool = False) -> None:
    """Refuse a non-empty `out` that harness search did not write; with `clear`, remove an earlier
    search's output (only after the new search has finished: a failed search loses nothing)."""
    out = Path(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"--out {out}: not a folder; choose another --out")
    entries = [p for p in out.iterdir() if p.name != layout.LOCK]
    if not entries:
        return
    manifest = RunDir(out).read_manifest()
    if manifest is None or manifest.get("kind") != "search":
        what = "a run directory" if manifest is not None else "a folder harness search did not write"
        raise ConfigError(f"--out {out} is {what} and not empty; harness search writes only into an empty or new "
                          "folder, or over its own earlier output: choose another --out")
    left = [p.name for p in entries if p.name not in SEARCH_OUTPUTS]
    if left:
        raise ConfigError(f"--out {out} holds files harness search did not write ({', '.join(sorted(left)[:3])}); "
                          "choose another --out")
    if not clear:
        return
    for p in entries:
        if p.name in SEARCH_OUTPUTS:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
