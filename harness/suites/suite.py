"""A suite is a folder: `suite.yaml` + its captions. Loading it checks everything before compute."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

from harness.config.methods import DEFAULT_METHODS
from harness.config.run import build_run_config
from harness.config.schema import MethodConfig, RunConfig
from harness.config.typed import apply_override, from_dict, read_yaml
from harness.critics.caption_words import caption_words
from harness.errors import ConfigError, HarnessError
from harness.search.methods import load_method
from harness.suites.captions import FORMATS, Caption, control_character, file_problem, load_captions


SUITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CAPTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a folder name in the run directory
MAX_ID = 100  # characters in a caption id (a folder name; file names take at most 255 bytes)


@dataclass
class CaptionSource:
    file: str  # path, relative to the suite folder (or absolute, e.g. a downloaded PartiPrompts.tsv)
    format: Optional[str] = None  # yaml | parti | geneval | text; None = by file extension
    category: list[str] = field(default_factory=list)  # keep captions in any of these categories
    tag: list[str] = field(default_factory=list)  # keep captions carrying any of these tags
    sample: Optional[int] = None  # then keep this many, drawn with `seed`
    seed: int = 0  # seed of the sample

    def validate(self, where: str, prefix: str = "") -> None:
        if self.format is not None and not re.fullmatch(r"[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?", self.format):
            raise ConfigError(f"{where}: field '{prefix}format' must be one of {', '.join(FORMATS)} or an importer "
                              f"plugin, got {self.format!r}")


@dataclass
class SuiteConfig:
    name: str  # shown in reports; the default run directory is reports/<name>
    captions: Union[str, CaptionSource]  # the captions file, or a source with filters and a sample
    description: str = ""  # one line for reports
    version: int = 1  # raise it when captions change meaning: a run directory holds one suite name and version
    methods: list[str] = field(default_factory=lambda: list(DEFAULT_METHODS))  # methods of baselines/
    seeds: list[int] = field(default_factory=lambda: [0])  # one job per caption x method x seed
    models: str = "default"  # model profile: default, random or tiny
    long_captions: Literal["truncate", "reject"] = "truncate"  # captions over CLIP's 77 tokens
    metrics: dict[str, Any] = field(default_factory=dict)  # metric settings (RunConfig.metrics fields)
    overrides: dict[str, Any] = field(default_factory=dict)  # dotted RunConfig fields, e.g. search.population

    def validate(self, where: str, prefix: str = "") -> None:
        if not self.methods:
            raise ConfigError(f"{where}: field 'methods' is empty; name at least one method of baselines/")
        if not self.seeds:
            raise ConfigError(f"{where}: field 'seeds' is empty; give at least one seed")
        check_seeds(self.seeds, f"{where}: field 'seeds'")
        if len(set(self.methods)) != len(self.methods):
            raise ConfigError(f"{where}: field 'methods' repeats a method")
        if self.version < 1:
            raise ConfigError(f"{where}: field 'version' must be >= 1")
        if not self.name.strip() or not SUITE_NAME.fullmatch(self.name):
            raise ConfigError(f"{where}: field 'name' {self.name!r} may use only letters, digits, '-', '_' and '.' "
                              "(it names the default run directory)")
        bad = control_character(self.description)
        if bad:
            raise ConfigError(f"{where}: field 'description' contains the control character {bad}; remove it")


@dataclass
class Suite:
    folder: Path
    config: SuiteConfig
    captions: list[Caption]
    methods: list[MethodConfig]
    seeds: list[int]
    run: RunConfig
    warnings: list[str] = field(default_factory=list)
    plugins: list[dict] = field(default_factory=list)  # the plugins that read it (importers), for the manifest
    ablation: dict | None = None  # harness ablate --leave-one-out/--add-critic: {'method', 'variants', 'controls'}

    @property
    def name(self) -> str:
        return self.config.name


def suite_file(path: Path) -> Path:
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise ConfigError(f"{path}: suite folder not found; give a folder with a suite.yaml, e.g. suites/smoke")
    file = path / "suite.yaml"
    if not file.is_file():
        raise ConfigError(f"{file}: {file_problem(file, 'suite.yaml')}")
    return file


MAX_CAPTION_CHARS = 100_000  # a caption's text (PartiPrompts' longest: 389 characters; CLIP reads 77 tokens of it)
MAX_SEED = 2 ** 32 - 1  # numpy's seed range


def check_seeds(seeds: list[int], where: str) -> None:
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED:
            raise ConfigError(f"{where}: seed {s!r} must be a whole number in 0..{MAX_SEED}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"{where}: seed {next(s for s in seeds if seeds.count(s) > 1)} is repeated")


def _parse_list(value: str | None, kind, option: str):
    if value is None:
        return None
    items = [v.strip() for v in value.split(",")]
    if not all(items):
        raise ConfigError(f"{option} {value!r}: an empty item; give a comma-separated list, e.g. "
                          f"{option} {'0,1,2' if kind is int else 'four_objective,clip_single'}")
    try:
        out = [kind(v) for v in items]
    except ValueError:
        raise ConfigError(f"{option} {value!r}: seeds must be whole numbers, e.g. --seeds 0,1,2") from None
    if kind is int:
        check_seeds(out, option)
    elif len(set(out)) != len(out):
        raise ConfigError(f"{option} {value!r}: {next(m for m in out if out.count(m) > 1)!r} is repeated")
    return out


def with_critics(run: RunConfig, methods: list[MethodConfig], where: str) -> RunConfig:
    """`run` with its critic set resolved (built-ins, critics.plugins, and any installed critic plugin a method's
    objectives name by its entry-point name), every method's objectives checked against it."""
    import dataclasses

    from harness.critics import resolve_run
    from harness.plugins import entry_points
    from harness.search.methods import check_method

    run = resolve_run(run, where)
    names = list(run.critics.sections)
    extra = [o for m in methods for o in m.objectives if o not in names and o in entry_points("harness.critics")]
    if extra:
        critics = dataclasses.replace(run.critics, plugins=[*run.critics.plugins, *dict.fromkeys(extra)])
        run = resolve_run(dataclasses.replace(run, critics=critics), where)
        names = list(run.critics.sections)
    for m in methods:
        check_method(m, f"baselines/{m.name}.yaml", names)
    return run


def load_suite(path: Path, methods: str | None = None, seeds: str | None = None, models: str | None = None,
               device: str | None = None, sets: list[str] | tuple = (), limit: int | None = None) -> Suite:
    """Load and validate a suite with the command line's choices; every problem is one ConfigError."""
    file = suite_file(path)
    where = str(file)
    cfg: SuiteConfig = from_dict(SuiteConfig, read_yaml(file), where)
    source = cfg.captions if isinstance(cfg.captions, CaptionSource) else CaptionSource(file=cfg.captions)
    cap_path = Path(source.file)
    if not cap_path.is_absolute():
        cap_path = file.parent / cap_path
    from harness.suites.captions import importer

    reader = importer(source.format, cap_path, where)
    captions = load_captions(cap_path, source.format, source.category, source.tag, source.sample, source.seed, reader)
    if not captions:
        raise ConfigError(f"{cap_path}: no captions (empty file, or the filters kept none)")
    seen = set()
    for c in captions:
        if not c.text.strip():
            raise ConfigError(f"{cap_path}: caption '{c.id}' is empty")
        if len(c.text) > MAX_CAPTION_CHARS:
            raise ConfigError(f"{cap_path}: caption '{c.id[:100]}' has {len(c.text):,} characters, over the "
                              f"{MAX_CAPTION_CHARS:,} a caption may have (CLIP reads 77 tokens); shorten it")
        bad = control_character(c.text) or control_character(c.id)
        if bad:
            raise ConfigError(f"{cap_path}: caption '{c.id.encode('unicode_escape').decode()}' contains the control "
                              f"character {bad}; remove it (any other Unicode text is fine)")
        try:
            caption_words(c.text)
        except HarnessError as exc:
            raise ConfigError(f"{cap_path}: caption '{c.id}': {exc}") from None
        if c.id in seen:
            raise ConfigError(f"{cap_path}: duplicate caption id '{c.id}'")
        if not CAPTION_ID.fullmatch(c.id):
            raise ConfigError(f"{cap_path}: caption id '{c.id}' may use only letters, digits, '-', '_' and '.', "
                              "and must start with a letter or digit")
        if len(c.id) > MAX_ID:
            raise ConfigError(f"{cap_path}: caption id '{c.id[:20]}...' has {len(c.id)} characters; ids name folders, "
                              f"so at most {MAX_ID} (file systems take 255 bytes a name): shorten it")
        seen.add(c.id)
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit {limit}: must be >= 1")
        captions = captions[:limit]

    method_names = _parse_list(methods, str, "--methods") or cfg.methods
    from harness.config import methods as method_files

    method_cfgs = []
    for name in method_names:
        try:
            method_cfgs.append(method_files.load_method(name))
        except ConfigError as exc:
            raise ConfigError(f"{where if methods is None else '--methods'}: {exc}") from None
    seed_list = _parse_list(seeds, int, "--seeds") or cfg.seeds

    base: dict = {"models": {"profile": cfg.models}, "metrics": dict(cfg.metrics)}
    for key, value in cfg.overrides.items():
        apply_override(base, key, value, f"{where}: overrides")
    try:
        from_dict(RunConfig, base, f"{where}")
    except ConfigError as exc:
        raise ConfigError(str(exc).replace(f"{where}:", f"{where}: overrides/metrics:", 1)) from None
    run = build_run_config(base, sets=sets, where="--set" if sets else where, models__profile=models, device=device)
    run = with_critics(run, method_cfgs, "--set" if sets else where)
    from harness.search.budget import check_sampler, is_diffusion, plan, steps_per_image

    multistep = is_diffusion(run.models.generator) and run.generator.scheduler == "ddim"
    for method in method_cfgs:  # every method can run under the budget, before any model loads
        check_sampler(method, multistep)
        plan(method, run.search, steps_per_image(run))

    from harness.suites.tokens import check_caption_lengths, script_warnings

    captions, warnings = check_caption_lengths(captions, run, cfg.long_captions, str(cap_path))
    warnings += script_warnings(captions, run)
    plugins = [{"kind": "caption importer", "name": reader.format, **reader.source}] if reader.source else []
    return Suite(file.parent, cfg, captions, method_cfgs, seed_list, run, warnings, plugins)
