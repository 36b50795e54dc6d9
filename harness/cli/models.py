"""`harness models {list,check,fetch} [PROFILE]`: which weights a profile needs, are they here, get them."""
from __future__ import annotations

import typer
from rich.table import Table

from harness.cli.common import console
from harness.cli.main import app
from harness.errors import HarnessError, WeightsMissingError

models_app = typer.Typer(no_args_is_help=True, help="Model weights: list, check, fetch.")
app.add_typer(models_app, name="models")


def _cfg(profile: str):
    from harness.config.schema import ModelsConfig

    if profile not in ("default", "random", "tiny"):
        raise HarnessError(f"unknown model profile {profile!r}: use default, random or tiny")
    return ModelsConfig(profile=profile)


@models_app.command("list")
def list_(profile: str = typer.Argument("default")) -> None:
    """The model ids a profile uses."""
    from harness.models import resolve_spec

    table = Table(title=f"profile {profile}")
    table.add_column("model")
    table.add_column("id")
    for key, value in resolve_spec(_cfg(profile)).ids().items():
        table.add_row(key, value)
    console.print(table)


@models_app.command()
def check(profile: str = typer.Argument("default")) -> None:
    """Are the profile's weights in the local caches? Answers in seconds, without network."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from harness.models import check_models

    files = check_models(_cfg(profile))
    table = Table(title=f"profile {profile}: weights found")
    table.add_column("model")
    table.add_column("files")
    for key, paths in files.items():
        table.add_row(key, "\n".join(map(str, paths)) or "(random weights)")
    console.print(table)


@models_app.command()
def fetch(profile: str = typer.Argument("default")) -> None:
    """Download the profile's weights into each library's usual cache (needs a network)."""
    from harness.models import check_models, resolve_spec

    cfg = _cfg(profile)
    spec = resolve_spec(cfg)
    if profile != "default":
        console.print(f"profile {profile} needs no download")
        return
    try:
        check_models(cfg)
        console.print("all weights already present")
        return
    except WeightsMissingError:
        pass
    try:
        import open_clip
        from huggingface_hub import snapshot_download
        from torchvision.models import VGG19_BN_Weights

        from harness.models import biggan

        open_clip.create_model(spec.clip, pretrained=spec.clip_pretrained)
        VGG19_BN_Weights[spec.classifier_weights].get_state_dict(progress=True)
        snapshot_download(spec.words, allow_patterns=["*.json", "*.txt", "*.safetensors"])
        biggan.resolve(spec.generator, offline=False)
    except WeightsMissingError:
        raise
    except Exception as exc:
        raise HarnessError(f"download failed ({type(exc).__name__}); check the network and retry "
                           "'harness models fetch'") from None
    check_models(cfg)
    console.print("all weights fetched")
