"""Keep the failed-captions suite alive: add the captions a method failed on, with provenance."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import yaml

from harness.config.typed import read_yaml
from harness.critics import SCORE_NAMES
from harness.errors import ConfigError
from harness.rundir import RunDir
from harness.rundir.files import atomic_write_bytes
from harness.suites.captions import read_yaml_captions
from harness.suites.suite import suite_file


def parse_below(spec: str, metrics=(*SCORE_NAMES, "clipscore")) -> tuple[str, float]:
    """METRIC=THRESHOLD with METRIC one of `metrics` (the run's critics and judges)."""
    metric, _, value = spec.partition("=")
    if metric not in metrics or not value:
        raise ConfigError(f"--below {spec!r}: expected METRIC=THRESHOLD with METRIC one of " + ", ".join(metrics))
    try:
        return metric, float(value)
    except ValueError:
        raise ConfigError(f"--below {spec!r}: {value!r} is not a number") from None


def failing_captions(rundir: RunDir, method: str, metric: str, threshold: float) -> pd.DataFrame:
    """Captions whose selected image, averaged over seeds, scored below `threshold` on `metric`."""
    values = rundir.job_values()
    if method not in set(values["method"]):
        raise ConfigError(f"--method: {rundir.path} has no finished job of method {method!r} "
                          f"(it has {', '.join(sorted(set(values['method'])))})")
    if metric not in values or values[metric].isna().all():
        raise ConfigError(f"--below {metric}: {rundir.path} has no {metric} values (run harness metrics first)")
    per_caption = (values[values["method"] == method].groupby(["caption_id", "caption"], sort=False)[metric]
                   .mean().reset_index())
    return per_caption[per_caption[metric] < threshold]


def add_failures(rundir: RunDir, into: Path, method: str, metric: str, threshold: float) -> list[dict]:
    """Append the failing captions to the suite's captions file; captions already there are skipped."""
    file = suite_file(into)
    suite = read_yaml(file)
    captions_name = suite.get("captions")
    if not isinstance(captions_name, str):
        raise ConfigError(f"{file}: 'captions' must name the suite's own YAML captions file to add to")
    path = file.parent / captions_name
    existing = read_yaml_captions(path) if path.is_file() else []
    texts = {c.text.strip().lower() for c in existing}
    ids = {c.id for c in existing}
    failing = failing_captions(rundir, method, metric, threshold)
    date = dt.date.today().isoformat()
    added = []
    for row in failing.itertuples():
        if row.caption.strip().lower() in texts:
            continue
        cid, k = row.caption_id, 2
        while cid in ids:
            cid, k = f"{row.caption_id}-{k}", k + 1
        entry = {"id": cid, "caption": row.caption, "tags": ["failed"],
                 "provenance": {"run": str(rundir.path), "method": method, "metric": metric,
                                "value": round(float(getattr(row, metric)), 6), "threshold": threshold, "date": date}}
        added.append(entry)
        texts.add(row.caption.strip().lower())
        ids.add(cid)
    if added:
        text = path.read_text() if path.is_file() else ""
        if text and not text.endswith("\n"):
            text += "\n"
        text += yaml.safe_dump(added, sort_keys=False, allow_unicode=True, width=1000)
        atomic_write_bytes(path, text.encode())
        read_yaml_captions(path)  # the file still parses
    return added
