"""Where models built here live (the `tiny` profile's small models, the `random` profile's random words): the cache
folder, its versions, and the registry of the builders that write them (harness.tiny registers them as it is
imported; the CLI and the harness's runners import it). Loading never builds: it asks this module for a folder.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

TINY_VERSION = "tiny-v2"  # v2: the classifier is calibrated on the tiny generator's images
RANDOM_VERSION = "random-v1"
STYLEGAN2_PICKLE = "network-snapshot-000000.pkl"  # the tiny StyleGAN2's file in its folder
TINY_HPS_FILE = "HPS_tiny_compressed.pt"  # the tiny HPSv2 checkpoint's file in its folder
BUILDERS: dict[str, object] = {}  # component -> build(folder): filled by harness.tiny


def default_cache_dir() -> Path:
    """Where the tiny models live: $HARNESS_CACHE or ~/.cache/harness (an empty HARNESS_CACHE is unset, never the
    current folder)."""
    return Path(os.environ.get("HARNESS_CACHE") or Path.home() / ".cache" / "harness")


def writable_cache(folder: Path) -> Path:
    """`folder` (under $HARNESS_CACHE) created and writable, else one line saying what to set."""
    from harness.errors import HarnessError

    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise HarnessError(f"the model cache {folder} cannot be created: {probe} is a file, not a folder; set "
                           "HARNESS_CACHE to a writable folder (default ~/.cache/harness)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".probe-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise HarnessError(f"the model cache {folder} is not writable ({(exc.strerror or str(exc)).lower()}); set "
                           "HARNESS_CACHE to a writable folder (default ~/.cache/harness)") from None
    return folder


def atomic_dir(target: Path, build) -> Path:
    """Build into a temporary folder beside `target`, then rename it into place (a cache that only holds models
    already built may be read-only)."""
    if target.is_dir():
        return target
    writable_cache(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another process won the race: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def built(component: str, cache_dir: Path | None = None, version: str = TINY_VERSION) -> Path:
    """Folder of one built model (`component` of harness.tiny's builders), written on first use."""
    from harness.errors import HarnessError

    root = Path(cache_dir) if cache_dir else default_cache_dir()
    target = root / version / ("words" if component == "random-words" else component)
    if target.is_dir():
        return target
    if component not in BUILDERS:
        raise HarnessError(f"the {component!r} model of the {version.split('-')[0]} profile is not built in {root} and "
                           "no builder is registered: import harness.tiny first (the harness command and its runners "
                           "do)")
    return atomic_dir(target, BUILDERS[component])


def tiny_model_dir(component: str, cache_dir: Path | None = None) -> Path:
    """Folder of one tiny model, built and written on first use."""
    return built(component, cache_dir)


def random_words_dir(cache_dir: Path | None = None) -> Path:
    """A BERT-base-sized random model with the tiny character vocabulary (the real vocabulary is a download)."""
    return built("random-words", cache_dir, RANDOM_VERSION)
