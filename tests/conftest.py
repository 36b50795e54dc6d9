"""Shared fixtures: the tiny profile (built once per session in a temporary cache), offline."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import harness.tiny  # noqa: F401  (the tiny profile's builders, as the harness command registers them)
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
    from harness.search.system import build_system

    return build_system(small_config(), models=tiny_models)


@pytest.fixture(scope="session")
def tiny_stylegan2(tiny_cache):
    """The tiny profile's StyleGAN2 network, read from its network pickle by the safe loader."""
    from harness.config.schema import ModelsConfig
    from harness.models.profiles import resolve_spec, stylegan2_pickle
    from harness.models.stylegan2 import load_generator

    spec = resolve_spec(ModelsConfig(profile="tiny", generator="stylegan2_ada"))
    return load_generator(stylegan2_pickle(spec.generator))


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_cache):
    """The tiny profile's diffusion pipeline, read back by the loader real pipelines go through."""
    from harness.models.diffusion import load_pipeline

    return load_pipeline("", "tiny")


@pytest.fixture(scope="session")
def tiny_generators(tiny_system, tiny_stylegan2, tiny_pipeline):
    """Every registered generator with every genome and space, keyed 'name' or 'name[variant]'."""
    from harness.generators import BigGANGenerator, DiffusionGenerator, StyleGAN2Generator

    net = tiny_system.generator.net
    return {"biggan": tiny_system.generator,
            "biggan[softmax]": BigGANGenerator(net, class_genome="softmax", batch_size=4),
            "biggan[sparse]": BigGANGenerator(net, class_genome="sparse", active_classes=1, batch_size=4),
            "biggan[sparse, 3 classes]": BigGANGenerator(net, class_genome="sparse", active_classes=3, batch_size=4),
            "biggan[embedding]": BigGANGenerator(net, class_genome="embedding", batch_size=4),
            "stylegan2_ada[wplus]": StyleGAN2Generator(tiny_stylegan2, space="wplus", truncation=0.7, batch_size=4),
            "stylegan2_ada": StyleGAN2Generator(tiny_stylegan2, truncation=0.7, batch_size=4),
            "stylegan2_ada[w, random noise]": StyleGAN2Generator(tiny_stylegan2, space="w", noise_mode="random",
                                                                 truncation=0.7, batch_size=4),
            "diffusion": DiffusionGenerator(tiny_pipeline, batch_size=4),
            "diffusion[2 steps]": DiffusionGenerator(tiny_pipeline, steps=2, batch_size=4),
            "diffusion[ddim, 8 steps, eta 1, guidance 3]": DiffusionGenerator(tiny_pipeline, steps=8, guidance=3.0,
                                                                            scheduler="ddim", eta=1.0, batch_size=4)}


@pytest.fixture(scope="session")
def smoke_run(tiny_cache, tmp_path_factory):
    """One `harness run suites/smoke` for every test that only reads a finished run (copy it to change it):
    (run directory, its FID/KID reference folder of 16 random images)."""
    import torch

    from harness.cli.main import main
    from harness.rundir.files import save_png

    root = tmp_path_factory.mktemp("smoke")
    ref = root / "reference"
    g = torch.Generator().manual_seed(0)
    for i in range(16):
        save_png(ref / f"{i:03d}.png", torch.rand(3, 32, 32, generator=g))
    out = root / "run"
    assert main(["run", str(REPO / "suites" / "smoke"), "--out", str(out), "--set", f"metrics.reference={ref}"]) == 0
    return out, ref
