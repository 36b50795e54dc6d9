"""A self-test of loaded models on bundled public-domain photos and a few words (`harness models
check PROFILE --probe`): CLIP ranks each photo's caption first, the classifier's top-5 holds the
photo's class, word embeddings order related words first, and the generator decodes a finite image
(BigGAN: a one-class latent is classified in that class's family). With random weights (tiny,
random profiles) the same code runs and each line says that no semantic check was made.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

PHOTOS = Path(__file__).resolve().parent / "photos"
CAPTIONS = {"chelsea": "a photo of a cat", "coffee": "a photo of a cup of coffee",
            "astronaut": "a photo of an astronaut in a space suit"}
DISTRACTORS = ["a photo of an airliner", "a photo of a red car"]
CLASSES = {"chelsea": ("a cat", set(range(281, 286))),  # tabby, tiger cat, Persian, Siamese, Egyptian cat
           "coffee": ("espresso or a cup", {967, 968, 504})}  # espresso, cup, coffee mug
WORDS = [("cat", "tabby cat", "airliner"), ("coffee", "espresso", "bobsled")]
DOG_CLASS, DOGS = 207, set(range(151, 269))  # golden retriever; the dog breeds of ImageNet
NO_SEMANTICS = "no semantic check: random weights"


@dataclass
class ProbeLine:
    model: str
    check: str
    result: str
    ok: bool | None  # None: ran, but random weights cannot be judged


def photos() -> dict[str, torch.Tensor]:
    """name -> float [1, 3, H, W] in [0, 1]."""
    import numpy as np
    from PIL import Image

    out = {}
    for name in CAPTIONS:
        with Image.open(PHOTOS / f"{name}.jpg") as im:
            arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
        out[name] = torch.from_numpy(arr).permute(2, 0, 1)[None].contiguous()
    return out


def _judge(ok: bool, semantic: bool) -> bool | None:
    return ok if semantic else None


def probe_clip(clip, label: str, semantic: bool) -> list[ProbeLine]:
    images = photos()
    texts = [*CAPTIONS.values(), *DISTRACTORS]
    text = clip.encode_text(texts).cpu()
    lines = []
    for i, (name, image) in enumerate(images.items()):
        emb = clip.encode_image(image).cpu()
        sims = (emb @ text.T)[0]
        finite = bool(torch.isfinite(sims).all())
        best = int(sims.argmax())
        lines.append(ProbeLine(label, f"{name}: its caption ranks first of {len(texts)}",
                               f"best: {texts[best]!r}", _judge(best == i, semantic) if finite else False))
    return lines


def probe_classifier(classifier, semantic: bool) -> list[ProbeLine]:
    images = photos()
    lines = []
    for name, (what, expected) in CLASSES.items():
        logits = classifier.logits(images[name]).float().cpu()[0]
        top5 = logits.topk(5).indices.tolist()
        names = ", ".join(classifier.categories[i] for i in top5[:3])
        finite = bool(torch.isfinite(logits).all())
        lines.append(ProbeLine("classifier", f"{name}: top-5 holds {what}", f"top-3: {names}",
                               _judge(bool(expected & set(top5)), semantic) if finite else False))
    return lines


def probe_words(words, semantic: bool) -> list[ProbeLine]:
    lines = []
    for word, near, far in WORDS:
        emb = words.embed_phrases([word, near, far])
        s_near, s_far = float(emb[0] @ emb[1]), float(emb[0] @ emb[2])
        lines.append(ProbeLine("words", f"sim({word!r}, {near!r}) > sim({word!r}, {far!r})",
                               f"{s_near:.3f} vs {s_far:.3f}", _judge(s_near > s_far, semantic)))
    return lines


def probe_generator(generator, classifier, semantic: bool) -> list[ProbeLine]:
    x = generator.initial_latents(1, seed=0)
    image = generator.decode(x)
    size = generator.image_size
    ok = bool(torch.isfinite(image).all()) and tuple(image.shape) == (1, 3, size, size)
    lines = [ProbeLine("generator", "decodes a fixed latent to a finite image", f"{tuple(image.shape[1:])}", ok)]
    num_classes = getattr(generator, "num_classes", None)
    if num_classes == 1000:  # BigGAN: one class made dominant in the class part of the genome
        x = generator.with_class(x, DOG_CLASS)
        top5 = classifier.logits(generator.decode(x)).float().cpu()[0].topk(5).indices.tolist()
        lines.append(ProbeLine("generator", "a golden-retriever latent is classified as a dog (top-5)",
                               f"top-1: {classifier.categories[top5[0]]}", _judge(bool(DOGS & set(top5)), semantic)))
    return lines


DETECTIONS = {"chelsea": "cat", "coffee": "cup"}  # the COCO class the detector must find in each photo


def probe_detector(detector, label: str, semantic: bool) -> list[ProbeLine]:
    """The geneval judge's detector: the photo's object among its five most confident instances."""
    lines = []
    for name, expected in DETECTIONS.items():
        instances = sorted((inst for inst in detector.detect(photos()[name])[0] if inst[0] is not None),
                           key=lambda inst: -inst[1])[:5]
        found = [inst[0] for inst in instances]
        shown = ", ".join(f"{n} {s:.2f}" for n, s, *_ in instances[:3]) or "nothing"
        lines.append(ProbeLine(label, f"{name}: finds a {expected} (top-5 instances)", shown,
                               _judge(expected in found, semantic)))
    return lines


def run_probe(models, generator, semantic: dict[str, bool], evaluator=None, judges=()) -> list[ProbeLine]:
    """Every line of the self-test. semantic: per model (clip, classifier, words, generator, evaluator),
    whether its weights are real enough to be judged; judges: held-out judges (harness.judges.panel.Judge),
    each checked like a CLIP (its caption of each photo ranks first)."""
    lines = probe_clip(models.clip, "clip", semantic.get("clip", False))
    lines += probe_classifier(models.classifier, semantic.get("classifier", False))
    lines += probe_words(models.words, semantic.get("words", False))
    lines += probe_generator(generator, models.classifier,
                             semantic.get("generator", False) and semantic.get("classifier", False))
    if evaluator is not None:
        lines += probe_clip(evaluator, "evaluator", semantic.get("evaluator", False))
    for judge in judges:
        if hasattr(judge, "detector"):  # geneval: its detector (its colours come from the CLIPScore judge above)
            lines += probe_detector(judge.detector, f"judge {judge.name}", semantic.get("evaluator", False))
        elif hasattr(judge, "backbone"):
            lines += probe_clip(judge.backbone, f"judge {judge.name}", semantic.get("evaluator", False))
    return lines
