"""A caption importer in one file: CSV with columns id, caption and (optional) tags separated by ';'."""
from __future__ import annotations

import csv
from pathlib import Path

from harness.errors import ConfigError
from harness.suites.captions import Caption, Importer


def read(path: Path) -> list[Caption]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"id", "caption"} <= set(reader.fieldnames or []):
            raise ConfigError(f"{path}: a captions CSV needs the columns id and caption")
        return [Caption(row["id"], row["caption"], tuple(t for t in (row.get("tags") or "").split(";") if t))
                for row in reader]


CSV = Importer("csv", read, (".csv",))
