"""`harness models {list,check,fetch} [PROFILE]`: which weights a profile needs (the CLIPScore
evaluator included), are they here, get them."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from harness.cli.common import console
from harness.cli.main import app
from harness.errors import HarnessError, WeightsMissingError

PROFILES = ("default", "random", "tiny")
PROFILE_HELP = "model profile: default (real weights), random (real architectures, random weights) or tiny"
HUB_HOSTS = ("huggingface.co", "download.pytorch.org")

models_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Model weights of a profile (default, random, tiny): list, check, fetch.")
app.add_typer(models_app, name="models")


SET_MODELS = typer.Option(None, "--set", metavar="KEY=VALUE",
                          help="a models.* or metrics.* field, e.g. models.generator=diffusion; repeatable")


def _cfgs(profile: str, sets: list[str] | None = None):
    from harness.config.run import build_run_config

    if profile not in PROFILES:
        raise HarnessError(f"unknown model profile {profile!r}: use {', '.join(PROFILES)}")
    for item in sets or []:
        if not item.split("=", 1)[0].strip().startswith(("models.", "metrics.")):
            raise HarnessError(f"--set {item!r}: harness models takes models.* and metrics.* fields")
    run = build_run_config(sets=sets or [], models__profile=profile)
    return run.models, run.metrics


def _ids(profile: str, sets: list[str] | None = None) -> dict[str, str]:
    from harness.models.profiles import clip_id, evaluator_spec, resolve_spec

    from harness.judges.panel import panel_entry

    models, metrics = _cfgs(profile, sets)
    name, pretrained, _ = evaluator_spec(models, metrics)
    judges = {f"judge {e.name}": " + ".join(x for x in panel_entry(e.name, profile) if x) or e.name
              for e in metrics.panel()}
    return {**resolve_spec(models).ids(), "evaluator (CLIPScore)": clip_id(name, pretrained), **judges}


@models_app.command("list", epilog="Example: harness models list tiny")
def list_(profile: str = typer.Argument("default", metavar="PROFILE", help=PROFILE_HELP),
          set_: Optional[list[str]] = SET_MODELS) -> None:
    """The model ids a profile uses, the CLIPScore evaluator included."""
    table = Table(title=f"profile {profile}")
    table.add_column("model")
    table.add_column("id", overflow="fold")
    for key, value in _ids(profile, set_).items():
        table.add_row(key, value)
    console.print(table)


@models_app.command(epilog="Example: harness models check default --probe")
def check(profile: str = typer.Argument("default", metavar="PROFILE", help=PROFILE_HELP),
          probe: bool = typer.Option(False, "--probe", help="then load the models and self-test them on bundled "
                                                            "photos and words (about a minute; exit 1 on a failed "
                                                            "check)"),
          set_: Optional[list[str]] = SET_MODELS) -> None:
    """Are every weight a run needs (the evaluator's too) in the local caches? Seconds, no network;
    every missing one is named in one line (exit 2). --probe: do the models give right answers?"""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    models, metrics = _cfgs(profile, set_)
    from harness.judges.weights import check_models

    files = check_models(models, metrics)
    table = Table(title=f"profile {profile}: weights found")
    table.add_column("model")
    table.add_column("files", overflow="fold")
    for key, paths in files.items():
        table.add_row(key, "\n".join(map(str, paths)) or "(random weights)")
    console.print(table)
    if probe:
        lines = _probe(models, metrics)
        if any(line.ok is False for line in lines):
            raise typer.Exit(1)


def _probe(models, metrics):
    from harness.config.schema import GeneratorConfig
    from harness.generators import make_generator
    from harness.models import load_judge, load_models
    from harness.judges.panel import load_panel_judge
    from harness.probe import NO_SEMANTICS, run_probe

    loaded = load_models(models)
    judge, _, same = load_judge(models, metrics, "cpu", search_clip=loaded.clip)
    evaluator = None if same else judge
    panel = [load_panel_judge(e.name, models.profile, e.model, e.pretrained) for e in metrics.panel()]
    real = models.profile == "default"
    lines = run_probe(loaded, make_generator(loaded, GeneratorConfig()),
                      {k: real for k in ("clip", "classifier", "words", "generator", "evaluator")}, evaluator, panel)
    table = Table(title=f"profile {models.profile}: self-test" + ("" if real else f" ({NO_SEMANTICS})"))
    for col in ("model", "check", "result", "verdict"):
        table.add_column(col, overflow="fold")
    for line in lines:
        verdict = {True: Text("pass", style="green"), False: Text("FAIL", style="red"), None: "no semantic check"}[line.ok]
        table.add_row(line.model, line.check, line.result, verdict)
    console.print(table)
    failed = [line for line in lines if line.ok is False]
    console.print(f"{len(failed)} check(s) failed" if failed else "every check passed" if real else
                  f"the models load and run; {NO_SEMANTICS}")
    return lines


def check_network(hosts=HUB_HOSTS, timeout: float = 5.0) -> None:
    """One quick look before downloading: offline is one line in seconds, not a minute of retries."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            raise HarnessError(f"{var} is set, so nothing can be downloaded; unset it on a machine with a network "
                               "and run 'harness models fetch' again")
    import socket

    for host in hosts:
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
        except OSError as exc:
            raise HarnessError(f"no network: cannot reach {host} ({exc.strerror or type(exc).__name__}); run "
                               "'harness models fetch' on a machine with a network, or place the files by hand "
                               "(README: Model profiles)") from None


def fetch_judges(metrics) -> None:
    """PickScore (model + processor repos) and the HPS checkpoint into the Hugging Face cache."""
    from huggingface_hub import hf_hub_download, snapshot_download

    from harness.judges.panel import panel_entry

    for e in metrics.panel():
        model, pretrained = panel_entry(e.name, "default", e.model, e.pretrained)
        if e.name == "pickscore":
            for repo in (model, pretrained):
                if repo:
                    snapshot_download(repo, allow_patterns=["*.json", "*.txt", "*.safetensors"])
        elif e.name == "geneval":
            snapshot_download(model, allow_patterns=["*.json", "*.safetensors", "*.bin", "*.txt"])
        elif e.name == "hpsv2" and pretrained:
            repo, _, filename = pretrained.partition(":")
            hf_hub_download(repo, filename)


@models_app.command(epilog="Example: harness models fetch default")
def fetch(profile: str = typer.Argument("default", metavar="PROFILE", help=PROFILE_HELP),
          set_: Optional[list[str]] = SET_MODELS) -> None:
    """Download the profile's weights (and the evaluator's) into each library's usual cache (needs a network)."""
    models, metrics = _cfgs(profile, set_)
    from harness.judges.weights import check_models
    from harness.models import resolve_spec
    from harness.models.profiles import evaluator_spec

    if profile != "default":
        console.print(f"profile {profile} needs no download")
        return
    try:
        check_models(models, metrics)
        console.print("all weights already present")
        return
    except WeightsMissingError:
        pass
    check_network()
    spec = resolve_spec(models)
    name, pretrained, _ = evaluator_spec(models, metrics)
    try:
        import open_clip
        from huggingface_hub import snapshot_download
        from torchvision.models import VGG19_BN_Weights

        from harness.models import biggan

        open_clip.create_model(spec.clip, pretrained=spec.clip_pretrained)
        open_clip.create_model(name, pretrained=pretrained)
        VGG19_BN_Weights[spec.classifier_weights].get_state_dict(progress=True)
        snapshot_download(spec.words, allow_patterns=["*.json", "*.txt", "*.safetensors"])
        from harness.models.profiles import diffusion_pipeline

        pipeline = diffusion_pipeline(spec.generator)
        if pipeline is not None:  # the pipeline's folders (unet, vae, text encoder, tokenizer, scheduler)
            snapshot_download(pipeline, allow_patterns=["*.json", "*.txt", "*.safetensors", "*.model"],
                              ignore_patterns=["*fp16*", "*.ckpt", "*.bin"])
        elif spec.generator.startswith(("biggan", "hf:")) or Path(spec.generator).is_dir():
            biggan.resolve(spec.generator, offline=False)
        fetch_judges(metrics)
    except WeightsMissingError:
        raise
    except Exception as exc:
        raise HarnessError(f"download failed ({type(exc).__name__}); check the network and retry "
                           "'harness models fetch'") from None
    check_models(models, metrics)
    console.print("all weights fetched")
