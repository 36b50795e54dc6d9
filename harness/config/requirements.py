"""What a caption requires of its image, in GenEval's metadata form (Ghosh et al. 2023), checked before compute.

    requires:
      tag: position                      # optional: single_object, two_object, counting, colors, position,
                                         # color_attr (inferred from the clauses when absent)
      include:                           # every clause must hold (AND)
        - {class: teddy bear, count: 1}
        - {class: dog, count: 1, position: [right of, 0]}   # right of the objects of include clause 0
        - {class: bus, count: 1, color: red}
      exclude:                           # any clause that holds fails the image (OR)
        - {class: clock, count: 3}       # fewer than 3 clocks

Classes are the 80 COCO object classes GenEval's detector knows (`COCO_CLASSES`, GenEval's names), colours
GenEval's ten (`COLORS`), positions `POSITIONS`.
"""
from __future__ import annotations

from harness.errors import ConfigError

COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant",
    "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard",
    "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli",
    "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet",
    "tv", "laptop", "computer mouse", "tv remote", "computer keyboard", "cell phone", "microwave", "oven",
    "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush")
COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white")
POSITIONS = ("left of", "right of", "above", "below")
TASKS = ("single_object", "two_object", "counting", "colors", "position", "color_attr")


def check_requirements(requires, where: str) -> dict | None:
    """`requires` validated (one ConfigError naming the field and the allowed values), as plain data."""
    if requires is None:
        return None
    if not isinstance(requires, dict):
        raise ConfigError(f"{where}: 'requires' must be a mapping with include/exclude lists")
    unknown = sorted(set(requires) - {"tag", "include", "exclude"})
    if unknown:
        raise ConfigError(f"{where}: 'requires' has an unknown key {unknown[0]!r} (known: exclude, include, tag)")
    if "tag" in requires and requires["tag"] not in TASKS:
        raise ConfigError(f"{where}: requires.tag {requires['tag']!r} must be one of {', '.join(TASKS)}")
    out = {"tag": requires["tag"]} if "tag" in requires else {}
    for part in ("include", "exclude"):
        clauses = requires.get(part, [])
        if not isinstance(clauses, list):
            raise ConfigError(f"{where}: requires.{part} must be a list of {{class, count}} clauses")
        out[part] = [_clause(c, f"{where}: requires.{part}[{i}]", part, i) for i, c in enumerate(clauses)]
    if not out["include"] and not out["exclude"]:
        raise ConfigError(f"{where}: 'requires' has no include or exclude clause")
    return out


def _clause(clause, where: str, part: str, index: int) -> dict:
    if not isinstance(clause, dict):
        raise ConfigError(f"{where} must be a mapping {{class, count, ...}}")
    allowed = {"class", "count"} | ({"color", "position"} if part == "include" else set())
    unknown = sorted(set(clause) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
    name = clause.get("class")
    if name not in COCO_CLASSES:
        raise ConfigError(f"{where}: class {name!r} is not a class the detector knows (the 80 COCO classes, e.g. "
                          f"person, cat, bus, dining table; harness.config.requirements.COCO_CLASSES)")
    count = clause.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"{where}: count {count!r} must be a whole number >= 1")
    out = {"class": name, "count": count}
    if "color" in clause:
        if clause["color"] not in COLORS:
            raise ConfigError(f"{where}: color {clause['color']!r} must be one of {', '.join(COLORS)}")
        out["color"] = clause["color"]
    if "position" in clause:
        position = clause["position"]
        if (not isinstance(position, (list, tuple)) or len(position) != 2 or position[0] not in POSITIONS
                or isinstance(position[1], bool) or not isinstance(position[1], int)
                or not 0 <= position[1] < index):
            raise ConfigError(f"{where}: position {position!r} must be [RELATION, INDEX] with RELATION one of "
                              f"{', '.join(POSITIONS)} and INDEX an earlier include clause (0..{max(index - 1, 0)})")
        out["position"] = [position[0], position[1]]
    return out


def task_of(requires: dict) -> str:
    """GenEval's task of a caption: its tag, else what its clauses ask."""
    if requires.get("tag"):
        return requires["tag"]
    include = requires.get("include", [])
    if any("position" in c for c in include):
        return "position"
    if any("color" in c for c in include):
        return "color_attr" if len(include) > 1 else "colors"
    if requires.get("exclude") or any(c["count"] > 1 for c in include):
        return "counting"
    return "two_object" if len(include) > 1 else "single_object"
