"""Atomic file writes (temp file + rename): a kill at any moment leaves the old file or the new one.

Files get the permissions the user's umask gives an ordinary new file (0644 under umask 022), not
the temp file's private 0600, so colleagues on a shared machine can read a run.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np


@lru_cache(maxsize=1)
def _file_mode() -> int:
    """What the umask (read once: setting it is the only way to read it) leaves of 0666."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), _file_mode())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def strict(obj):
    """A copy of obj that RFC 8259 can hold: NaN and +-Infinity (not applicable, or undefined at this N)
    become null; numpy scalars and arrays become numbers and lists; Paths strings."""
    if isinstance(obj, dict):
        return {str(k) if not isinstance(k, str) else k: strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return strict(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def json_text(obj, indent: int | None = 2) -> str:
    """Strict JSON (no NaN or Infinity tokens: strict readers such as JSON.parse, jq and DuckDB refuse them);
    indent=None: one line."""
    return json.dumps(strict(obj), indent=indent, sort_keys=False, default=_default, allow_nan=False) + "\n"


def write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, json_text(obj).encode())


def _default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def png_bytes(image) -> bytes:
    """image: uint8 [3, H, W] numpy or torch (or float in [0, 1]) -> PNG file bytes."""
    import torch
    from PIL import Image

    image = image if torch.is_tensor(image) else torch.from_numpy(np.array(image))  # a copy: may be read-only
    if image.is_floating_point():
        image = (image.clamp(0, 1) * 255).round().to(torch.uint8)
    buf = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).cpu().numpy()).save(buf, format="PNG")
    return buf.getvalue()


def save_png(path: Path, image) -> None:
    atomic_write_bytes(path, png_bytes(image))


def load_png(path: Path):
    """A stored PNG -> float32 torch tensor [3, H, W] in [0, 1]; a torn or foreign file is one line naming it."""
    import torch
    from PIL import Image, UnidentifiedImageError

    from harness.errors import HarnessError

    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, SyntaxError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise HarnessError(f"{path} is not a readable image ({' '.join(str(exc).split())[:80]}); rerun `harness run` "
                           "with the suite that made this folder (--out it) to restore it from latents.npz, or "
                           "remove its job folder to rerun the job") from None
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def write_parquet(path: Path, frame) -> None:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


def write_parquet_parts(path: Path, paths, read, rows_per_group: int = 1 << 17) -> int:
    """One Parquet file from the Parquet files `paths` (same columns; read(path) -> a pyarrow Table),
    atomically, holding at most about rows_per_group rows in memory at once (parts are gathered into row groups
    of that size); returns the rows, -1 when there was no part. Columns are cast to the first part's types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    writer, schema, pending, held, total = None, None, [], 0, 0

    def flush():
        nonlocal pending, held
        if pending:
            writer.write_table(pa.concat_tables(pending))
            pending, held = [], 0
    try:
        for part in paths:
            table = read(part)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(tmp, schema)
            elif table.schema != schema:
                table = table.select(schema.names).cast(schema)
            pending.append(table)
            held += table.num_rows
            total += table.num_rows
            if held >= rows_per_group:
                flush()
        if writer is None:
            os.unlink(tmp)
            return -1
        flush()
        writer.close()
        with open(tmp, "rb+") as fh:
            os.fchmod(fh.fileno(), _file_mode())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if writer is not None:
            writer.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return total


def load_pngs(paths: list[Path], workers: int | None = None) -> list:
    """Several PNGs decoded in parallel threads (PIL releases the GIL while decoding), in order."""
    from concurrent.futures import ThreadPoolExecutor

    paths = list(paths)
    if len(paths) < 8:
        return [load_png(p) for p in paths]
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(load_png, paths))


def write_npz(path: Path, **arrays) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
