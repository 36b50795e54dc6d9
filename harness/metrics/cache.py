"""Model outputs per image, kept across `harness metrics` runs: RUN_DIR/cache/.

Every value a model computes from a stored image (a CLIPScore, a judge's score, an FID feature
vector) is keyed by the SHA-256 of the PNG's bytes, the caption where the value depends on one, and
the kind, which names the model (`clipscore|<evaluator id>`, `pickscore|<id>`, `features|<extractor>`).
Rerunning metrics after a report or statistics change therefore recomputes no model output, and a
changed image or model is never served an old value. One `.npz` per kind (keys, values) and an
`index.json` naming the kinds; files are written atomically at the end of a metrics run.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from harness.rundir.files import write_json, write_npz

FOLDER = "cache"
CHUNK = 256  # images decoded and scored at a time: memory stays flat however many images miss


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ScoreCache:
    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None
        self.kinds: dict[str, dict[str, np.ndarray]] = {}
        self._digests: dict[Path, str] = {}
        self._dirty: set[str] = set()
        self.hits = self.misses = 0
        self.computed: dict[str, int] = {}  # kind -> images computed (not served from the cache)

    def _file(self, kind: str) -> str:
        return hashlib.sha1(kind.encode()).hexdigest()[:16] + ".npz"

    def _load(self, kind: str) -> dict[str, np.ndarray]:
        if kind not in self.kinds:
            values: dict[str, np.ndarray] = {}
            path = self.folder / self._file(kind) if self.folder else None
            if path is not None and path.is_file():
                with np.load(path, allow_pickle=False) as data:
                    values = dict(zip(data["keys"].tolist(), data["values"]))
            self.kinds[kind] = values
        return self.kinds[kind]

    def digest(self, path: Path) -> str:
        if path not in self._digests:
            self._digests[path] = file_digest(path)
        return self._digests[path]

    def get_many(self, kind: str, paths: list[Path], compute, contexts: list[str] | None = None) -> list:
        """Values of `kind` for `paths` (with per-path `contexts`, e.g. captions), computing only the
        missing ones with compute(missing paths) -> list of values."""
        store = self._load(kind)
        contexts = contexts or [""] * len(paths)
        keys = [self.digest(p) + ("|" + hashlib.sha1(c.encode()).hexdigest()[:12] if c else "")
                for p, c in zip(paths, contexts)]
        missing = {}
        for p, k in zip(paths, keys):
            if k not in store and k not in missing:
                missing[k] = p
        self.hits += len(paths) - len(missing)
        self.misses += len(missing)
        if missing:
            self.computed[kind] = self.computed.get(kind, 0) + len(missing)
        todo = list(missing.items())
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            for (k, _), v in zip(chunk, compute([p for _, p in chunk])):
                store[k] = np.asarray(v) if isinstance(v, str) else np.asarray(v, dtype=np.float64)
            self._dirty.add(kind)
        return [store[k] for k in keys]

    def save(self) -> None:
        if self.folder is None or not self._dirty:
            return
        index_path = self.folder / "index.json"
        index = json.loads(index_path.read_text()) if index_path.is_file() else {}
        for kind in self._dirty:
            store = self.kinds[kind]
            keys = np.array(list(store), dtype=str)
            write_npz(self.folder / self._file(kind), keys=keys, values=np.stack(list(store.values())))
            index[self._file(kind)] = kind
        write_json(index_path, index)
        self._dirty.clear()
