"""Critics by name: the one registration of each, and the run's critic set (built-ins and plugins).

A critic is a `Critic` subclass (harness.critics.base) in one file; its registration is one `CriticSpec`
(name, settings dataclass, implementation) in `BUILTIN` below, or, outside the package, a Python entry
point of the group `harness.critics` (or `--set critics.plugins=[module:Class]`) naming the class, whose
`name` and `settings` class attributes then register it. Nothing else lists critics: the search, the
archive's score columns, the per-individual reference scorer, metrics, report and tests iterate this.

Everything here imports no torch (input checks run before any model): the classes are in harness.critics.base
(Critic, Features, CaptionContext, crop_boxes) and the Scorer in harness.critics.scorer.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from harness.config.schema import CriticsConfig, ImageRealConfig, RegionWordConfig, TextImageConfig, WordLabelConfig
from harness.errors import ConfigError, HarnessError

GROUP = "harness.critics"


@dataclass(frozen=True)
class CriticSpec:
    name: str  # the score's name: the archive column, `critics.<name>.*` settings, a method's objective
    settings: type | None  # its settings dataclass (plain data), None = no settings
    impl: object  # the Critic subclass, or "module:Class" (built-ins load on first use, so torch only then)
    source: dict = field(default_factory=dict, compare=False)  # a plugin's provenance (harness.plugins.load)

    def load(self):
        """The Critic subclass."""
        if isinstance(self.impl, str):
            import importlib

            module, _, attr = self.impl.partition(":")
            return getattr(importlib.import_module(module), attr)
        return self.impl

    def record(self) -> dict:
        """How the manifest names this critic: name, direction, range and, for a plugin, its provenance."""
        cls = self.load()
        out = {"name": self.name, "higher_is_better": bool(getattr(cls, "higher_is_better", True)),
               "score_range": list(getattr(cls, "score_range", (0.0, 1.0))), "builtin": not self.source}
        if self.source:
            out["plugin"] = self.source
        return out


BUILTIN = (  # the seed report's four scores
    CriticSpec("text_image", TextImageConfig, "harness.critics.text_image:TextImageCritic"),
    CriticSpec("image_real", ImageRealConfig, "harness.critics.image_real:ImageRealCritic"),
    CriticSpec("region_word", RegionWordConfig, "harness.critics.region_word:RegionWordCritic"),
    CriticSpec("word_label", WordLabelConfig, "harness.critics.word_label:WordLabelCritic"),
)
SCORE_NAMES = tuple(spec.name for spec in BUILTIN)  # the built-in critics, in their archive order


def plugin_spec(reference: str, option: str = "critics.plugins") -> CriticSpec:
    """The spec of a plugin critic named by an entry point of `harness.critics` or `module:Class`."""
    from harness import plugins

    obj, source = plugins.load(reference, GROUP, "critic", option)
    from harness.critics.base import Critic

    if not (isinstance(obj, type) and issubclass(obj, Critic)):
        raise HarnessError(f"{option}: the critic plugin {reference!r} is {type(obj).__name__} "
                           f"{getattr(obj, '__name__', obj)!r}, not a subclass of harness.critics.base.Critic")
    from harness.contracts import check

    check(obj, "critic", reference, option)
    name = reference if reference in plugins.entry_points(GROUP) else getattr(obj, "name", None)
    if not isinstance(name, str) or not name or name == "critic":
        raise HarnessError(f"{option}: the critic plugin {reference!r} has no `name` (set the class attribute "
                           "name = 'my_score', the score's archive column)")
    settings = getattr(obj, "settings", None)
    return CriticSpec(name, settings, obj, source)


def critic_specs(plugins: list[str] | tuple = ()) -> list[CriticSpec]:
    """The run's critics: the built-ins, then each plugin in order; one name twice is one line."""
    specs = list(BUILTIN)
    for reference in plugins:
        spec = plugin_spec(reference)
        clash = next((s for s in specs if s.name == spec.name), None)
        if clash is not None:
            other = "the built-in critic" if not clash.source else f"the plugin {clash.source.get('reference')!r}"
            raise HarnessError(f"critics.plugins: two critics are named {spec.name!r} ({reference!r} and {other}); "
                               "a critic's name is its archive column: rename one")
        specs.append(spec)
    return specs


def resolve(critics: CriticsConfig, where: str = "--set") -> CriticsConfig:
    """`critics` with every section of the run's critic set typed and filled with its defaults; a section of
    no critic of the run, or a bad field, is one ConfigError naming it."""
    from harness.config.typed import from_dict

    specs = critic_specs(critics.plugins)
    names = [s.name for s in specs]
    unknown = [n for n in critics.sections if n not in names]
    if unknown:
        raise ConfigError(f"{where}: unknown key 'critics.{unknown[0]}': no critic {unknown[0]!r} in this run "
                          f"(critics: {', '.join(names)}; a plugin critic is named in critics.plugins)")
    sections = {}
    for spec in specs:
        raw = critics.sections.get(spec.name)
        if spec.settings is None:
            if raw and not dataclasses.is_dataclass(raw):
                raise ConfigError(f"{where}: critic {spec.name!r} has no settings, got critics.{spec.name}={raw!r}")
            sections[spec.name] = None
        elif dataclasses.is_dataclass(raw) and isinstance(raw, spec.settings):
            sections[spec.name] = raw
        else:
            sections[spec.name] = from_dict(spec.settings, raw or {}, where, prefix=f"critics.{spec.name}.")
    return dataclasses.replace(critics, sections=sections)


def resolve_run(run, where: str = "--set"):
    """A RunConfig whose critics are resolved (idempotent)."""
    return dataclasses.replace(run, critics=resolve(run.critics, where))


__all__ = ["BUILTIN", "CriticSpec", "SCORE_NAMES", "critic_specs", "plugin_spec", "resolve", "resolve_run"]
