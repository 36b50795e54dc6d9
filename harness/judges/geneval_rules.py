"""GenEval's rules (Ghosh et al., NeurIPS 2023 Datasets and Benchmarks), written from the paper and its
published settings: given an image's detected objects, does it meet a caption's requirements?

* Detections of a class count when their score is above `threshold` (0.3; `counting_threshold` 0.9 for a
  counting task), most confident first, at most `max_objects` (16) per class.
* include clauses (all must hold): at least `count` objects of the class; with `color`, at least `count` of
  those most confident objects classified as that colour; with `position` [relation, k], every one of those
  objects stands in that relation to every object that met include clause k (a clause that failed gives no
  target: the relation fails too).
* exclude clauses (any fails the image): `count` or more objects of the class.
* relative position of A to B: the offset of their box centres, each axis shrunk towards 0 by `margin` (0.1)
  times the sum of the two boxes' sizes on that axis; no relation when both shrink to 0; otherwise, with the
  shrunk offset divided by the length of the raw offset, "left of" below -0.5 in x, "right of" above 0.5,
  "above" below -0.5 in y (image y grows downwards), "below" above 0.5.

`evaluate` returns (correct, reasons, present): the verdict, the failed requirements as short strings, and
whether every included class was detected at all (regardless of count, colour and position).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.config.requirements import COLORS, task_of


@dataclass(frozen=True)
class Settings:
    threshold: float = 0.3  # detection score a found object needs
    counting_threshold: float = 0.9  # ... in a counting task
    max_objects: int = 16  # most confident objects kept per class
    margin: float = 0.1  # position: the share of the two objects' sizes an offset must exceed


@dataclass
class Detection:
    label: str  # a COCO class (harness.config.requirements.COCO_CLASSES)
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels
    mask: np.ndarray | None = field(default=None, repr=False)  # bool [H, W]


def select(detections: list[Detection], requires: dict, settings: Settings = Settings()) -> dict[str, list]:
    """class -> its detections above the task's threshold, most confident first, at most max_objects. Equal scores
    keep GenEval's order, `np.argsort(scores)[::-1]` over the class's detections in the detector's order (the later
    of two equal ones first), since that order decides which detection is checked for colour or position."""
    threshold = settings.counting_threshold if task_of(requires) == "counting" else settings.threshold
    by_class: dict[str, list] = {}
    for d in detections:
        by_class.setdefault(d.label, []).append(d)
    out = {}
    for label, found in by_class.items():
        order = np.argsort(np.array([d.score for d in found]))[::-1]
        kept = [found[i] for i in order if found[i].score > threshold][:settings.max_objects]
        if kept:
            out[label] = kept
    return out


def relative_position(a: Detection, b: Detection, margin: float = 0.1) -> set[str]:
    """The relations of A to B ("left of", "right of", "above", "below") by their boxes."""
    boxes = np.array([a.box, b.box], dtype=np.float64).reshape(2, 2, 2)  # [object, corner, xy]
    center_a, center_b = boxes.mean(axis=1)
    size_a, size_b = np.abs(boxes[:, 1] - boxes[:, 0])
    offset = center_a - center_b
    shrunk = np.maximum(np.abs(offset) - margin * (size_a + size_b), 0) * np.sign(offset)
    if np.all(np.abs(shrunk) < 1e-3):
        return set()
    dx, dy = shrunk / np.linalg.norm(offset)
    relations = set()
    if dx < -0.5:
        relations.add("left of")
    if dx > 0.5:
        relations.add("right of")
    if dy < -0.5:
        relations.add("above")
    if dy > 0.5:
        relations.add("below")
    return relations


def evaluate(objects: dict[str, list], requires: dict, colour_of, settings: Settings = Settings()
             ) -> tuple[bool, list[str], bool]:
    """objects: `select`'s output; colour_of(detections, class) -> one colour name (COLORS) per detection."""
    correct, reasons, groups = True, [], []
    for clause in requires.get("include", []):
        name, count = clause["class"], clause["count"]
        found = objects.get(name, [])[:count]
        matched = len(found) >= count
        if not matched:
            reasons.append(f"expected {name}>={count}, found {len(found)}")
        if matched and "color" in clause:
            colours = list(colour_of(found, name))
            if colours.count(clause["color"]) < count:
                matched = False
                seen = ", ".join(f"{colours.count(c)} {c}" for c in COLORS if c in colours)
                reasons.append(f"expected {clause['color']} {name}>={count}, found {colours.count(clause['color'])} "
                               f"{clause['color']}; {seen}")
        if matched and "position" in clause:
            relation, target = clause["position"]
            if groups[target] is None:
                matched = False
                reasons.append(f"no target for {name} to be {relation}")
            else:
                for obj in found:
                    for other in groups[target]:
                        seen = relative_position(obj, other, settings.margin)
                        if relation not in seen:
                            matched = False
                            reasons.append(f"expected {name} {relation} target, found "
                                           f"{' and '.join(sorted(seen)) or 'no relation to the'} target")
                            break
                    if not matched:
                        break
        correct = correct and matched
        groups.append(found if matched else None)
    for clause in requires.get("exclude", []):
        name, count = clause["class"], clause["count"]
        if len(objects.get(name, [])) >= count:
            correct = False
            reasons.append(f"expected {name}<{count}, found {len(objects[name])}")
    present = all(objects.get(c["class"]) for c in requires.get("include", []))
    return correct, reasons, present
