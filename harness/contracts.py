"""What a plugin of each kind must have: the one statement of every extension point's contract.

Each kind (critic, judge, metric section, caption importer, generator) lists its members: name, whether it is an
attribute, a method or a class method, its type in words, whether it is required, and a check. A plugin is checked
against its kind's contract when it loads (`check`), and a missing or mistyped member is one line naming the
member, the plugin and what it should be. docs/plugins.md's contract table is tested against these lists, so the
two cannot drift. Nothing here imports torch or the package's heavier layers.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass

from harness.errors import HarnessError


def _is_str(v) -> bool:
    return isinstance(v, str) and bool(v)


def is_range(v) -> bool:
    try:
        lo, hi = v
        return all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in (lo, hi)) \
            and lo < hi
    except (TypeError, ValueError):
        return False


def _is_settings(v) -> bool:
    return v is None or (isinstance(v, type) and dataclasses.is_dataclass(v))


def _is_names(v) -> bool:
    return isinstance(v, (tuple, list)) and all(_is_str(x) for x in v)


def _is_bool(v) -> bool:
    return isinstance(v, bool)


def _is_dict(v) -> bool:
    return isinstance(v, dict)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


@dataclass(frozen=True)
class Member:
    name: str
    kind: str  # "attribute" | "method" | "class method"
    type: str  # in words, as docs/plugins.md shows it
    required: bool = True
    check: object = None  # value -> bool for attributes; None: callable (and, for a method, implemented)

    def problem(self, obj) -> str | None:
        """Why `obj` does not meet this member (None when it does)."""
        missing = object()
        value = inspect.getattr_static(obj, self.name, missing)
        if value is missing:
            return f"is missing `{self.name}` ({self.kind}: {self.type})" if self.required else None
        value = getattr(obj, self.name)
        if self.kind == "attribute":
            if self.check is not None and not self.check(value):
                return f"has `{self.name}` = {value!r}, which is not {self.type}"
            return None
        if not callable(value):
            return f"has `{self.name}` = {value!r}, which is not a {self.kind} ({self.type})"
        if getattr(value, "__isabstractmethod__", False):
            return f"does not implement `{self.name}` ({self.kind}: {self.type})"
        return None


CONTRACTS: dict[str, tuple[Member, ...]] = {
    "critic": (  # a subclass of harness.critics.base.Critic
        Member("name", "attribute", "a non-empty str: the score's name and archive column", False, _is_str),
        Member("settings", "attribute", "a dataclass type of its settings, or None", False, _is_settings),
        Member("backbones", "attribute", "a tuple of str: the loaded models it scores with, e.g. ('clip',)", False,
               _is_names),
        Member("score_range", "attribute", "a tuple (low, high) of finite numbers, low < high", True, is_range),
        Member("higher_is_better", "attribute", "a bool", False, _is_bool),
        Member("_backbones", "method", "() -> dict of the Features backbones it needs, e.g. {'clip': self.clip}"),
        Member("_score", "method", "(features, context) -> float tensor [B]"),
    ),
    "judge": (
        Member("load", "class method", "(model, pretrained, profile, device, cache_dir) -> an object with id (str), "
                                       "score_range (low, high) and score(images, captions) -> float array [N]"),
        Member("files", "class method", "(model, pretrained, profile) -> the local files load reads", False),
    ),
    "metric section": (
        Member("name", "attribute", "a non-empty str: its key in metrics.json", True, _is_str),
        Member("compute", "method", "(MetricContext) -> dict, strict-JSON values"),
        Member("render", "method", "(section dict, ReportContext) -> list of markdown lines", False),
        Member("per_pick", "attribute", "a bool: recomputed for every stored pick policy", False, _is_bool),
        Member("definitions", "attribute", "a dict of str: added to metrics.json definitions", False, _is_dict),
    ),
    "caption importer": (
        Member("read", "method", "(path) -> list of harness.suites.captions.Caption"),
        Member("extensions", "attribute", "a tuple of str: file extensions that mean this format", False, _is_names),
    ),
    "generator": (  # a subclass of harness.generators.base.Generator
        Member("load_net", "class method", "(arg, profile, device, cache_dir) -> its network"),
        Member("from_config", "class method", "(net, GeneratorConfig, device) -> the generator, with latent_dim "
                                              "and image_size set"),
        Member("files", "class method", "(arg, profile) -> the local files load_net reads", False),
        Member("_bounds", "method", "() -> (lower [D], upper [D])"),
        Member("_initial", "method", "(n, numpy Generator) -> latents [n, D]"),
        Member("_decode", "method", "(latents tensor [B, D]) -> images [B, 3, H, W] in [0, 1]"),
    ),
}
INSTANCE = {"generator": (Member("latent_dim", "attribute", "a positive int", True, _is_int),
                          Member("image_size", "attribute", "a positive int", True, _is_int))}


def check(obj, kind: str, reference: str, option: str, members=None) -> None:
    """One HarnessError line naming every member of `kind`'s contract that `obj` (the plugin `reference`, named
    in `option`) lacks or has wrongly typed."""
    problems = [p for m in (members or CONTRACTS[kind]) if (p := m.problem(obj))]
    if problems:
        raise HarnessError(f"{option}: the {kind} plugin {reference!r} " + "; ".join(problems)
                           + " (the contract: docs/plugins.md)")
