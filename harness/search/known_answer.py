"""Known-answer search problems: objectives whose optimum is known, on the real generator and search paths.

A hidden target image T; objectives in the critics' roles (`OBJECTIVES`), each "how close is the image
to T" in a channel like the critic's, each 1 at the target itself (so the optimum is known):

  text_image   cosine of the profile's CLIP embeddings of the image and of T (whole image)
  image_real   cosine of the profile's classifier logits for the image and for T
  region_word  mean over the critic's crops of the cosine of CLIP crop embeddings with T's crops
  word_label   coarse layout: 1 - mean squared difference of the 4 x 4 average-pooled images

Beside them, held-out measures no method optimises (`HELD_OUT`), each also 1 at the target:

  pixels       1 - mean squared difference at full resolution (in [0, 1] pixel units)
  judge        cosine of a held-out CLIP's embeddings (the profile's CLIPScore judge: another model)

Targets: `one_class` (the generator's own output from a hidden noise and one class: a genome can reach
it exactly), `mixture` (a hidden noise and a mixture of three classes) and `photo` (a real photograph
the generator did not make, scikit-image's chelsea: no genome wins by construction). For an
unconditional generator both generated targets are hidden latents of its own.

The measure is the normalised gap closed, per measure: (picked - random) / (1 - random), where random
is the mean over the initial population every method shares (random samples of the generator): a
stable denominator, far from 0 on every problem; 0 = as good as a random sample, 1 = the target.

Two-target problem: objectives -|x - T1|^2 and -|x - T2|^2 in pixels (mean over pixels). Its Pareto
set in image space is the segment between T1 and T2, so its front is known: (-t^2 D, -(1-t)^2 D)
for t in [0, 1] with D = mean |T1 - T2|^2; the measure is the hypervolume of the final population
as a fraction of that front's (same reference point: the initial population's worst values). The
generator may not be able to reach that front, so the fraction is a lower bound on search power.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from harness.critics.base import Features

TARGETS = ("one_class", "mixture", "photo")
OBJECTIVES = ("text_image", "image_real", "region_word", "word_label")  # the roles, named as the critics they play
HELD_OUT = ("pixels", "judge")
PHOTO = Path(__file__).resolve().parents[1] / "probe" / "photos" / "chelsea.jpg"
LAYOUT = 4  # the coarse-layout objective compares 4 x 4 average-pooled images


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x.double(), dim=-1)


def target_image(generator, kind: str, seed: int) -> torch.Tensor:
    """The hidden target [1, 3, S, S] in [0, 1], 8-bit like every image the search scores."""
    from harness.search.loop import quantize

    rng = np.random.default_rng([seed, TARGETS.index(kind)])
    size = generator.image_size
    if kind == "photo":
        from PIL import Image

        photo = Image.open(PHOTO).convert("RGB").resize((size, size), Image.BICUBIC)
        return torch.from_numpy(np.asarray(photo).copy()).permute(2, 0, 1)[None].float() / 255.0
    net = getattr(generator, "net", None)
    if hasattr(net, "embeddings"):  # BigGAN: noise + one class, or a mixture of three
        z = torch.as_tensor(generator.truncation * np.clip(rng.standard_normal((1, generator.z_dim)), -2, 2),
                            dtype=torch.float32)
        classes = torch.zeros(1, generator.num_classes)
        picked = rng.choice(generator.num_classes, 1 if kind == "one_class" else 3, replace=False)
        classes[0, picked] = torch.as_tensor(rng.dirichlet(np.ones(len(picked))), dtype=torch.float32)
        with torch.inference_mode():
            image = (net(z.to(generator.device), classes.to(generator.device), generator.truncation) + 1) / 2
        return quantize(image.clamp(0, 1).float().cpu())
    latents = generator.initial_latents(1, [seed, 1000 + TARGETS.index(kind)])  # a hidden latent of its own
    return quantize(generator.decode(latents).cpu())


def _layout(images: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.adaptive_avg_pool2d(images.cpu().double(), LAYOUT)


@dataclass
class KnownAnswerScorer:
    """Scores images by closeness to `target` ([1, 3, S, S]) in the critics' roles (the Scorer interface of
    harness.critics: `names`, `context`, `score`); `held_out` measures the same images on the measures
    no objective optimises (judge: a held-out ClipBackbone, or None to skip that measure)."""

    models: object  # harness.models.Models (clip, classifier)
    target: torch.Tensor
    grid: int = 2
    center: bool = True
    judge: object = None  # a ClipBackbone the search does not use (the profile's CLIPScore judge)

    names = OBJECTIVES

    def __post_init__(self):
        ref = Features(self.target, clip=self.models.clip, classifier=self.models.classifier, grid=self.grid,
                       center=self.center)
        self._clip = _unit(ref.clip_image)[0]
        self._crops = _unit(ref.clip_crops)[0]
        self._logits = _unit(ref.logits)[0]
        self._layout = _layout(self.target)[0]
        self._pixels = self.target[0].double()
        self._judge = _unit(self.judge.encode_image(self.target).cpu())[0] if self.judge is not None else None

    def context(self, caption: str):
        return None

    def score(self, images: torch.Tensor, caption: str = "", timer=None) -> dict[str, np.ndarray]:
        f = Features(images, clip=self.models.clip, classifier=self.models.classifier, grid=self.grid,
                     center=self.center)
        out = {"text_image": _unit(f.clip_image) @ self._clip,
               "image_real": _unit(f.logits) @ self._logits,
               "region_word": (_unit(f.clip_crops) * self._crops).sum(-1).mean(-1),
               "word_label": 1.0 - ((_layout(images) - self._layout) ** 2).mean(dim=(1, 2, 3))}
        return {name: out[name].numpy().astype(np.float64) for name in self.names}

    def held_out(self, images: torch.Tensor) -> dict[str, np.ndarray]:
        """The measures no method optimises, float64 [B] each (1 at the target)."""
        out = {"pixels": (1.0 - ((images.cpu().double() - self._pixels) ** 2).mean(dim=(1, 2, 3))).numpy()}
        if self._judge is not None:
            out["judge"] = (_unit(self.judge.encode_image(images).cpu()) @ self._judge).numpy()
        return out


@dataclass
class TwoTargetScorer:
    """Two objectives, -mean |x - T1|^2 and -mean |x - T2|^2, as text_image and image_real."""

    targets: tuple[torch.Tensor, torch.Tensor]

    names = ("text_image", "image_real")

    def context(self, caption: str):
        return None

    def score(self, images: torch.Tensor, caption: str = "", timer=None) -> dict[str, np.ndarray]:
        x = images.cpu().double()
        d = [-((x - t[0].double()) ** 2).mean(dim=(1, 2, 3)).numpy() for t in self.targets]
        return dict(zip(self.names, d))

    def front(self, n: int = 2001) -> np.ndarray:
        """The known Pareto front [n, 2] (higher is better)."""
        D = float(((self.targets[0].double() - self.targets[1].double()) ** 2).mean())
        t = np.linspace(0.0, 1.0, n)
        return np.stack([-(t ** 2) * D, -((1 - t) ** 2) * D], axis=1)


def normalised_gap(random: np.ndarray, picked: np.ndarray, optimum: float = 1.0) -> np.ndarray:
    """Per measure: (picked - mean of the random samples) / (optimum - mean of the random samples)."""
    base = np.asarray(random, dtype=np.float64).mean(axis=0)
    return (np.asarray(picked, dtype=np.float64) - base) / (optimum - base)


def hypervolume_fraction(final: np.ndarray, front: np.ndarray, reference: np.ndarray) -> float:
    """HV of `final` [N, 2] over HV of the known `front`, both as maximisation against `reference`."""
    from pymoo.indicators.hv import HV

    hv = HV(ref_point=-np.asarray(reference, dtype=np.float64))
    return float(hv(-np.asarray(final, dtype=np.float64)) / hv(-front))


def measures(scorer, images: torch.Tensor) -> dict[str, np.ndarray]:
    """Every objective and (for a KnownAnswerScorer) every held-out measure of `images`, float64 [B] each."""
    out = dict(scorer.score(images))
    if hasattr(scorer, "held_out"):
        out.update(scorer.held_out(images))
    return out


def initial_scores(generator, scorer, search, seed: int) -> dict[str, np.ndarray]:
    """Every measure [P] of the initial population every method of this seed starts from (random samples)."""
    from harness.search.loop import quantize

    return measures(scorer, quantize(generator.decode(generator.initial_latents(search.population, seed))))


def run_problem(method, search, generator, scorer, seed: int) -> dict:
    """One search on a known-answer problem: the final population's objective scores [P, K], and for every
    stored pick policy the picked individual's measures (objectives and held-out)."""
    from harness.search.loop import run_search

    result = run_search("", method, scorer, generator, search, seed)
    final = np.stack([result.scores[n] for n in scorer.names], axis=1)
    images = torch.from_numpy(np.stack(result.images)).float() / 255.0
    every = measures(scorer, images)
    by_policy = {p: {k: float(v[i]) for k, v in every.items()} for p, i in result.picks.items()}
    return {"final": final, "picked": final[result.selected], "evaluations": result.evaluations,
            "nfe": result.spent.get("nfe"), "pick": method.pick, "by_policy": by_policy}
