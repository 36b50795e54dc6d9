"""Typed configuration: one dataclass per section, one comment per field.

`RunConfig` is what `--set key=value` reaches (e.g. `critics.image_real.temperature=0.5`).
`MethodConfig` is one file of `baselines/`; its file stem is its name.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

from harness.errors import ConfigError


def _check(ok: bool, where: str, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{where}: field '{key}' {message}")


def prompt_fields(template: str) -> list[str] | None:
    """The replacement fields of a str.format template ('{}' -> ['']), None when it is malformed."""
    import string

    try:
        return [field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
                for _, field, spec, conv in string.Formatter().parse(template) if field is not None]
    except ValueError:
        return None


@dataclass
class ModelsConfig:
    profile: str = "default"  # default | random | tiny: which weights back the models below
    clip: Optional[str] = None  # open_clip model name or 'local-dir:PATH'; None = the profile's
    clip_pretrained: Optional[str] = None  # open_clip pretrained tag or checkpoint file; None = profile's
    classifier: Optional[str] = None  # torchvision classifier name (vgg19_bn) or a tiny-model folder
    classifier_weights: Optional[str] = None  # torchvision weights enum name or a state-dict file
    words: Optional[str] = None  # Hugging Face model id or local folder for Flair word embeddings
    generator: Optional[str] = None  # biggan-deep-{128,256,512}, a folder, hf:ORG/REPO or stylegan2_ada:PKL
    cache_dir: Optional[str] = None  # where the tiny profile writes its models; None = ~/.cache/harness

    def validate(self, where: str, prefix: str = "") -> None:
        _check(self.profile in ("default", "random", "tiny"), where, prefix + "profile",
               f"must be one of default, random, tiny, got {self.profile!r}")


TRAIN_TIMESTEPS = 1000  # the Stable Diffusion schedulers' num_train_timesteps: no more inference steps than these


@dataclass
class GeneratorConfig:
    truncation: float = 1.0  # BigGAN truncation / StyleGAN2 psi, in (0, 1]; 1 = none
    class_bound: float = 3.0  # class logits / class weights are searched in [-class_bound, class_bound]
    class_genome: str = "sparse"  # BigGAN class genes: sparse (k classes; the benchmark's best) | softmax | embedding
    active_classes: int = 1  # sparse genome: how many classes an image mixes (k)
    batch_size: int = 32  # images decoded per forward pass
    space: str = "z"  # latent space searched: z, or w / wplus (StyleGAN2 only; wplus: one w per layer)
    noise_mode: str = "const"  # StyleGAN2 noise: const (stored maps), random (seeded by the genome) or none
    class_label: Optional[int] = None  # conditional StyleGAN2: fixed class; None = search the class (space z)
    steps: int = 1  # diffusion: denoising steps (SD-Turbo's model card: 1; 1-4 for the turbo models; SD 2.1: 50)
    guidance: float = 0.0  # diffusion: classifier-free guidance scale (0 = none, as the turbo models are used)
    scheduler: str = "pipeline"  # diffusion: pipeline (its own, e.g. the turbo models' Euler) | ddim (EvoSearch's)
    eta: float = 0.0  # diffusion, ddim: DDIM's eta (0 deterministic, 1 stochastic; its per-step noise seeded)

    def validate(self, where: str, prefix: str = "") -> None:
        _check(0 < self.truncation <= 1, where, prefix + "truncation", "must be in (0, 1]")
        _check(self.class_bound > 0, where, prefix + "class_bound", "must be > 0")
        _check(self.batch_size >= 1, where, prefix + "batch_size", "must be >= 1")
        _check(self.class_genome in ("softmax", "sparse", "embedding"), where, prefix + "class_genome",
               f"must be softmax, sparse or embedding, got {self.class_genome!r}")
        _check(1 <= self.active_classes <= 1000, where, prefix + "active_classes", "must be in 1..1000")
        _check(self.space in ("z", "w", "wplus"), where, prefix + "space", f"must be z, w or wplus, got {self.space!r}")
        _check(self.noise_mode in ("const", "random", "none"), where, prefix + "noise_mode",
               f"must be const, random or none, got {self.noise_mode!r}")
        _check(self.class_label is None or self.class_label >= 0, where, prefix + "class_label", "must be >= 0")
        _check(1 <= self.steps <= TRAIN_TIMESTEPS, where, prefix + "steps",
               f"must be in 1..{TRAIN_TIMESTEPS} (the scheduler's training timesteps; the turbo models: 1 to 4, "
               f"SD 1.5/2.1: 20 to 50)")
        _check(self.guidance >= 0, where, prefix + "guidance", "must be >= 0")
        _check(self.scheduler in ("pipeline", "ddim"), where, prefix + "scheduler",
               f"must be pipeline or ddim, got {self.scheduler!r}")
        _check(0 <= self.eta <= 1, where, prefix + "eta", "must be in [0, 1]")
        _check(self.eta == 0 or self.scheduler == "ddim", where, prefix + "eta", "applies to scheduler=ddim only")


@dataclass
class TextImageConfig:
    """text_image has no settings: CLIP's cosine of the whole image and the caption."""


@dataclass
class ImageRealConfig:
    temperature: float = 1.0  # softmax(logits / temperature); low sharpens, high flattens

    def validate(self, where: str, prefix: str = "") -> None:
        _check(self.temperature > 0, where, prefix + "temperature", "must be > 0")


@dataclass
class RegionWordConfig:
    grid: int = 2  # crops are a grid x grid tiling of the image ...
    center: bool = True  # ... plus one centred crop of half the side
    prompt: str = "a photo of a {}."  # template each caption word is put in before CLIP encodes it

    def validate(self, where: str, prefix: str = "") -> None:
        _check(1 <= self.grid <= 16, where, prefix + "grid", "must be in 1..16 (grid x grid crops per image)")
        _check(prompt_fields(self.prompt) == [""], where, prefix + "prompt",
               f"must hold exactly one '{{}}' for the word and no other '{{' or '}}' (double them: '{{{{'), "
               f"got {self.prompt!r}")


@dataclass
class WordLabelConfig:
    top_k: int = 1  # how many predicted labels are compared with the caption words
    temperature: float = 1.0  # softmax temperature that weights the top_k labels

    def validate(self, where: str, prefix: str = "") -> None:
        _check(1 <= self.top_k <= 1000, where, prefix + "top_k", "must be in 1..1000")
        _check(self.temperature > 0, where, prefix + "temperature", "must be > 0")


@dataclass
class CriticsConfig:
    """The critics' settings: `critics.<name>.<field>` for every critic of the run (the built-in four and the
    plugins named here), resolved against each critic's own settings class by harness.critics.resolve."""

    batch_size: int = 64  # images per forward pass through CLIP and the classifier (crops count)
    plugins: list[str] = field(default_factory=list)  # more critics: entry points of harness.critics or module:Class
    sections: dict[str, Any] = field(default_factory=dict)  # critic name -> its settings (not a key: critics.NAME.*)

    def validate(self, where: str, prefix: str = "") -> None:
        _check(self.batch_size >= 1, where, prefix + "batch_size", "must be >= 1")
        _check(len(set(self.plugins)) == len(self.plugins), where, prefix + "plugins", "names a plugin twice")

    @classmethod
    def from_plain(cls, data: dict, where: str, prefix: str = "") -> "CriticsConfig":
        """From the plain mapping {batch_size, plugins, NAME: {field: value}, ...}; sections stay plain data until
        harness.critics.resolve types them with each critic's settings class."""
        from harness.config.typed import from_dict

        own = {k: data[k] for k in ("batch_size", "plugins") if k in data}
        sections = {}
        for name, value in data.items():
            if name in own:
                continue
            if name == "sections" or not isinstance(value, dict) and not dataclasses.is_dataclass(value):
                raise ConfigError(f"{where}: field '{prefix}{name}' must be a mapping of critic settings "
                                  f"(e.g. {prefix}image_real.temperature), got {value!r}")
            sections[str(name)] = value
        out = from_dict(cls, own, where, prefix)
        out.sections = sections
        return out

    def to_plain(self) -> dict:
        """The plain mapping (as a manifest records it): batch_size, plugins when there are any, each section."""
        out: dict = {"batch_size": self.batch_size}
        if self.plugins:
            out["plugins"] = list(self.plugins)
        for name, value in self.sections.items():
            out[name] = dataclasses.asdict(value) if dataclasses.is_dataclass(value) else dict(value or {})
        return out

    def __getattr__(self, name: str):
        sections = self.__dict__.get("sections", {})
        if name in sections:
            return sections[name]
        raise AttributeError(f"no critic settings {name!r} (resolve the run's critics first: harness.critics.resolve)")


@dataclass
class SearchConfig:
    population: int = 100  # individuals kept each generation (the report: 100)
    offspring: int = 100  # new individuals evaluated each generation after the first (100)
    generations: int = 50  # generation 0 is the initial population (50 in all)
    nfe: Optional[int] = None  # the budget in function evaluations (denoiser steps per image; a GAN image is 1):
    # every method spends at most this (harness.search.budget); None = population + offspring x (generations - 1)
    # images' worth

    def validate(self, where: str, prefix: str = "") -> None:
        _check(self.population >= 2, where, prefix + "population", "must be >= 2")
        _check(self.offspring >= 1, where, prefix + "offspring", "must be >= 1")
        _check(self.generations >= 1, where, prefix + "generations", "must be >= 1")
        _check(self.nfe is None or self.nfe >= 1, where, prefix + "nfe", "must be >= 1 (or null: the generations')")

    @property
    def budget(self) -> int:
        """Evaluations of an evolutionary method: population + offspring * (generations - 1)."""
        return self.population + self.offspring * (self.generations - 1)


JUDGE_NAMES = ("clipscore", "pickscore", "hpsv2", "geneval")  # the profile's default panel (harness.judges.panel)
JUDGE_NAME = r"[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?"  # a registered judge, an entry point of harness.judges, module:Class


@dataclass
class EvaluatorEntry:
    name: str  # clipscore, a judge of harness.judges.panel (pickscore, hpsv2, geneval) or a plugin judge
    model: Optional[str] = None  # clipscore: open_clip name, 'local-dir:PATH' or 'search'; pickscore: HF repo or
    # folder; hpsv2: open_clip architecture; None = the profile's
    pretrained: Optional[str] = None  # clipscore: tag or file; pickscore: processor repo/folder; hpsv2: REPO:FILE or file

    def validate(self, where: str, prefix: str = "") -> None:
        import re

        _check(re.fullmatch(JUDGE_NAME, self.name or "") is not None, where, prefix + "name",
               f"must name a judge (e.g. {', '.join(JUDGE_NAMES)}), got {self.name!r}")


@dataclass
class GenevalConfig:
    """GenEval's published settings for the geneval judge (Ghosh et al. 2023)."""

    threshold: float = 0.3  # detection score an object needs
    counting_threshold: float = 0.9  # ... in a counting task
    max_objects: int = 16  # most confident objects kept per class
    margin: float = 0.1  # relative position: share of the two objects' sizes an offset must exceed

    def validate(self, where: str, prefix: str = "") -> None:
        _check(0 <= self.threshold < 1, where, prefix + "threshold", "must be in [0, 1)")
        _check(0 <= self.counting_threshold < 1, where, prefix + "counting_threshold", "must be in [0, 1)")
        _check(self.max_objects >= 1, where, prefix + "max_objects", "must be >= 1")
        _check(0 <= self.margin < 1, where, prefix + "margin", "must be in [0, 1)")


@dataclass
class MetricsConfig:
    # CLIPScore judge: None = the profile's held-out one (harness.models.profiles.evaluator_spec); an open_clip
    # name or 'local-dir:PATH'; "search" = the search's own CLIP (the report then says so)
    evaluator_clip: Optional[str] = None
    evaluator_pretrained: Optional[str] = None  # its tag or file; None = openai in profile default, else random
    # held-out judges: names or {name, model, pretrained}; None = the profile's panel (clipscore, pickscore, hpsv2)
    evaluators: Optional[list[Union[str, EvaluatorEntry]]] = None
    reference: Optional[str] = None  # FID/KID reference: a folder of real images or a saved .npz statistics file
    fid_features: str = "inception"  # inception | clip | tiny: FID/KID feature extractor
    plugins: list[str] = field(default_factory=list)  # more metric sections: entry points of harness.metrics or module:ATTR
    geneval: GenevalConfig = field(default_factory=GenevalConfig)  # the geneval judge's settings
    kid_subset_size: int = 50  # KID subset size, lowered to the smaller set's size when N is small
    kid_subsets: int = 100  # KID subsets averaged (the std is over these)
    bootstrap: int = 1000  # bootstrap resamples for every interval
    confidence: float = 0.95  # interval level

    def judge_entries(self) -> list[EvaluatorEntry]:
        """The judges as entries (the profile's panel when unset); clipscore's model defaults to evaluator_clip."""
        entries = [EvaluatorEntry(e) if isinstance(e, str) else e for e in (self.evaluators or list(JUDGE_NAMES))]
        return [EvaluatorEntry("clipscore", self.evaluator_clip, self.evaluator_pretrained)
                if e.name == "clipscore" and e.model is None else e for e in entries]

    def clipscore_config(self) -> "MetricsConfig":
        """These settings with evaluator_clip/evaluator_pretrained taken from a clipscore entry that names a model."""
        import dataclasses

        entry = next((e for e in self.judge_entries() if e.name == "clipscore"), None)
        if entry is None:
            return self
        return dataclasses.replace(self, evaluator_clip=entry.model, evaluator_pretrained=entry.pretrained)

    def panel(self) -> list[EvaluatorEntry]:
        """The judges beside CLIPScore (pickscore, hpsv2, geneval, plugins) that these settings name."""
        return [e for e in self.judge_entries() if e.name != "clipscore"]

    def validate(self, where: str, prefix: str = "") -> None:
        for i, e in enumerate(self.evaluators or []):
            if isinstance(e, str):
                EvaluatorEntry(e).validate(where, f"{prefix}evaluators[{i}].")
        names = [e.name for e in self.judge_entries()]
        _check(len(set(names)) == len(names), where, prefix + "evaluators", f"names a judge twice: {names}")
        _check(self.evaluators is None or len(self.evaluators) > 0, where, prefix + "evaluators",
               "must name at least one judge (or be left unset for the profile's panel)")
        _check(self.fid_features in ("inception", "clip", "tiny"), where, prefix + "fid_features",
               f"must be inception, clip or tiny, got {self.fid_features!r}")
        _check(self.kid_subset_size >= 2, where, prefix + "kid_subset_size", "must be >= 2")
        _check(self.kid_subsets >= 1, where, prefix + "kid_subsets", "must be >= 1")
        _check(self.bootstrap >= 10, where, prefix + "bootstrap", "must be >= 10")
        _check(0 < self.confidence < 1, where, prefix + "confidence", "must be in (0, 1)")


@dataclass
class RunConfig:
    models: ModelsConfig = field(default_factory=ModelsConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    critics: CriticsConfig = field(default_factory=CriticsConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    device: str = "cpu"  # torch device: cpu, cuda, cuda:1, ...
    checkpoint_every: int = 1  # generations between checkpoints of a running job (resume granularity)
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"  # autocast dtype on CUDA (CPU: always fp32)
    threads: int = 1  # torch CPU threads; fixed, so scores are bitwise the same on any executor and core count

    def validate(self, where: str, prefix: str = "") -> None:
        import os

        _check(self.checkpoint_every >= 1, where, prefix + "checkpoint_every", "must be >= 1")
        cores = os.cpu_count() or 1
        _check(1 <= self.threads <= cores, where, prefix + "threads",
               f"must be in 1..{cores} (this machine's CPU cores), got {self.threads}")
        import re

        _check(re.fullmatch(r"cpu|cuda(:\d+)?|mps", self.device) is not None, where, prefix + "device",
               f"must be cpu, cuda, cuda:N or mps, got {self.device!r}")


@dataclass
class MethodConfig:
    name: str  # the file stem in baselines/
    algorithm: Literal["nsga2", "ga", "random", "single", "zero_order", "zero_order_greedy",
                       "evo_trajectory"]  # search algorithm
    description: str = ""  # one line shown in reports
    objectives: list[str] = field(default_factory=lambda: ["text_image"])  # critics optimized
    pick: str = "best_text_image_on_front"  # final-pick policy (harness.search.pick)
    # variation operators (harness.search.operators; pymoo 0.6 meanings), recorded in the manifest
    # defaults: the strongest setting of benchmarks/search_power.py (README: "Search power")
    crossover_prob: float = 0.9  # per mating: probability that SBX happens
    crossover_eta: float = 15.0  # SBX distribution index
    mutation_prob: float = 1.0  # per individual: probability that it is mutated at all
    mutation_prob_var: Optional[float] = 0.1  # per gene: probability it changes; None = pymoo's 1/genes
    mutation_eta: float = 10.0  # polynomial mutation distribution index
    # Gaussian genes (a diffusion model's initial noise) keep N(0, I): crossover slerps directions and keeps a parent's
    # norm (crossover_prob per mating), mutation sqrt(1 - s^2) x + s e (mutation_prob per individual); zero_order's
    # neighbours lie at cosine sqrt(1 - s^2) from the pivot
    noise_mutation_sigma: float = 0.3  # s: how far a mutation (or a zero-order neighbour) moves the noise
    class_mutation_prob_var: Optional[float] = None  # the class genes' own per-gene probability; None = as above
    class_mutation_eta: Optional[float] = None  # the class genes' own PM index; None = mutation_eta
    # evo_trajectory (EvoSearch, He et al. 2025; harness.search.trajectory): evolution along the denoising path
    evolution_schedule: list[int] = field(default_factory=lambda: [0, 20, 30, 40])  # steps where a generation evolves
    population_schedule: list[int] = field(default_factory=lambda: [42, 26, 26, 26, 30])  # sizes: initial, then one
    # per evolution step (one more entry than evolution_schedule)
    schedule_steps: int = 50  # the step count the schedules are written for: other counts scale both to the budget
    elites: int = 5  # the best states carried into the next generation unchanged
    trajectory_mutation: float = 0.2  # r: the noise part of a state moves to sqrt(1 - r^2) e + r e' (keeps x_t's law)

    def validate(self, where: str, prefix: str = "") -> None:
        """Structure only: critic and pick names are checked where their registries live
        (harness.search.methods.check_method)."""
        _check(len(self.objectives) >= 1, where, prefix + "objectives", "must name at least one critic")
        if self.algorithm == "nsga2":
            _check(len(self.objectives) >= 2, where, prefix + "objectives", "needs >= 2 critics for nsga2")
        if self.algorithm in ("ga", "zero_order", "zero_order_greedy"):
            _check(len(self.objectives) == 1, where, prefix + "objectives", f"needs exactly 1 critic for {self.algorithm}")
        _check(0 < self.noise_mutation_sigma <= 1, where, prefix + "noise_mutation_sigma", "must be in (0, 1]")
        if self.algorithm == "evo_trajectory":
            self.validate_schedules(where, prefix)
        for key in ("crossover_prob", "mutation_prob", "mutation_prob_var", "class_mutation_prob_var"):
            value = getattr(self, key)
            _check(value is None or 0 <= value <= 1, where, prefix + key, "must be in [0, 1]")
        for key in ("crossover_eta", "mutation_eta", "class_mutation_eta"):
            value = getattr(self, key)
            _check(value is None or value > 0, where, prefix + key, "must be > 0")

    def validate_schedules(self, where: str, prefix: str = "") -> None:
        """The schedules' own structure; against a generator's step count: harness.search.budget."""
        steps = self.evolution_schedule
        _check(len(steps) >= 1 and all(isinstance(s, int) and s >= 0 for s in steps), where,
               prefix + "evolution_schedule", f"must list denoising steps >= 0, got {steps!r}")
        _check(all(a < b for a, b in zip(steps, steps[1:])), where, prefix + "evolution_schedule",
               f"must be strictly increasing, got {steps!r}")
        _check(steps[-1] < self.schedule_steps, where, prefix + "evolution_schedule",
               f"ends at step {steps[-1]}, past the last step of its schedule_steps={self.schedule_steps} "
               f"(steps are 0..{self.schedule_steps - 1})")
        sizes = self.population_schedule
        _check(len(sizes) == len(steps) + 1, where, prefix + "population_schedule",
               f"has {len(sizes)} entries; it needs {len(steps) + 1}: the initial population, then one per step of "
               f"evolution_schedule {steps!r}")
        _check(all(isinstance(n, int) and n >= 2 for n in sizes), where, prefix + "population_schedule",
               f"must list sizes >= 2, got {sizes!r}")
        _check(0 <= self.elites < min(sizes[1:]), where, prefix + "elites",
               f"must be in 0..{min(sizes[1:]) - 1} (fewer than every later population)")
        _check(0 < self.trajectory_mutation <= 1, where, prefix + "trajectory_mutation", "must be in (0, 1]")
