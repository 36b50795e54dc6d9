"""The `geneval` judge: object-level correctness of an image against its caption's requirements, in the manner
of GenEval (Ghosh et al. 2023): an instance-segmentation detector finds the objects (harness.judges.detector),
a CLIP classifies the colour of each required object (cut out by its mask onto a grey #999 background, cropped
to its box, zero-shot over GenEval's ten colours with its three prompt templates, averaged), and GenEval's rules
decide (harness.judges.geneval_rules). A judge that is not a CLIP ranking images: it asks whether the bus is there.

Per image (`details`): applicable (the caption has requirements), correct, the failed requirements, whether every
required object is present at all, and the caption's task; `score` is 1 for a correct image, 0 for a wrong one
and NaN where the caption has no requirements (not applicable).
"""
from __future__ import annotations

import json
from functools import cached_property

import numpy as np
import torch

from harness.config.requirements import COLORS, task_of
from harness.judges.geneval_rules import Detection, Settings, evaluate, select

TEMPLATES = ("a photo of a {c} {o}", "a photo of a {c}-colored {o}", "a photo of a {c} object")
GREY = 0x99 / 255.0  # GenEval's background behind a cut-out object (#999)


class GenevalJudge:
    name = "geneval"
    score_range = (0.0, 1.0)

    def __init__(self, detector_loader, clip_loader, id: str, settings: Settings = Settings()):
        self._detector_loader, self._clip_loader = detector_loader, clip_loader
        self.id = id
        self.settings = settings
        self._colours: dict[str, torch.Tensor] = {}

    @cached_property
    def detector(self):
        return self._detector_loader()

    @cached_property
    def clip(self):
        return self._clip_loader()

    def colour_classifier(self, name: str) -> torch.Tensor:
        """[10, D] unit text embeddings of each colour for object class `name` (templates averaged)."""
        if name not in self._colours:
            rows = []
            for colour in COLORS:
                emb = self.clip.encode_text([t.format(c=colour, o=name) for t in TEMPLATES]).cpu().double()
                rows.append(torch.nn.functional.normalize(emb.mean(0), dim=0))
            self._colours[name] = torch.stack(rows)
        return self._colours[name]

    def colours(self, image: torch.Tensor, found: list[Detection], name: str) -> list[str]:
        """The colour of each detection of `name` in `image` [3, H, W]: the object on grey, cropped to its box, as
        GenEval does it: the crop as the 8-bit PIL image it is (stored images and #999 are 8-bit), through the CLIP's
        own PIL transform (Preprocess.on_pil: open_clip's Resize, CenterCrop, ToTensor, Normalize)."""
        from harness.models.hub import to_pil

        crops = []
        for d in found:
            mask = torch.as_tensor(d.mask) if d.mask is not None else torch.ones(image.shape[-2:], dtype=torch.bool)
            cut = torch.where(mask[None], image, torch.full_like(image, GREY))
            x1, y1, x2, y2 = (int(round(v)) for v in d.box)
            crops.append(cut[:, y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)])
        pixels = torch.stack([self.clip.preprocessing.on_pil(to_pil(c[None])[0]) for c in crops])
        emb = self.clip.encode_pixels(pixels).cpu().double()
        return [COLORS[i] for i in (emb @ self.colour_classifier(name).T).argmax(1).tolist()]

    def details(self, images: torch.Tensor, captions: list) -> list[str]:
        """One JSON string per image: {score, applicable, correct, reasons, present, task, unknown_labels} (score:
        1 / 0 / null; unknown_labels: the detector's instances whose label is none of GenEval's COCO classes, which
        the rules cannot read: counted, never silently dropped)."""
        out: list[str | None] = [None] * len(images)
        todo = [i for i, c in enumerate(captions) if getattr(c, "requirements", None)]
        for i in set(range(len(images))) - set(todo):
            out[i] = json.dumps({"score": None, "applicable": False})
        found = self.detector.detect(images[todo]) if todo else []
        for i, instances in zip(todo, found):
            requires = captions[i].requirements
            known = [inst for inst in instances if inst[0] is not None]
            objects = select([Detection(*inst) for inst in known], requires, self.settings)
            correct, reasons, present = evaluate(objects, requires, lambda ds, n, i=i: self.colours(images[i], ds, n),
                                                 self.settings)
            out[i] = json.dumps({"score": float(correct), "applicable": True, "correct": bool(correct),
                                 "reasons": reasons, "present": bool(present), "task": task_of(requires),
                                 "unknown_labels": len(instances) - len(known)})
        return out

    def score(self, images: torch.Tensor, captions: list) -> np.ndarray:
        return np.array([outcome(d) for d in self.details(images, captions)], dtype=np.float64)


def outcome(detail: str) -> float:
    """The score a judge's per-image details carry (geneval: 1 / 0 for a correct / wrong image), NaN for none."""
    score = json.loads(detail).get("score")
    return float("nan") if score is None else float(score)
