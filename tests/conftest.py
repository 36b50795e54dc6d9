"""Shared fixtures: the tiny profile (built once per session in a temporary cache), offline."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import small_config  # noqa: F401

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def tiny_cache(tmp_path_factory):
    """HARNESS_CACHE for the session (CI sets its own; the tiny models are built once into it)."""
    if "HARNESS_CACHE" not in os.environ:
        os.environ["HARNESS_CACHE"] = str(tmp_path_factory.mktemp("harness-cache"))
    return Path(os.environ["HARNESS_CACHE"])


@pytest.fixture(scope="session")
def tiny_models(tiny_cache):
    from harness.config.schema import ModelsConfig
    from harness.models import load_models

    return load_models(ModelsConfig(profile="tiny"))


@pytest.fixture(scope="session")
def tiny_system(tiny_models):
    from harness.system import build_system

    return build_system(small_config(), models=tiny_models)
