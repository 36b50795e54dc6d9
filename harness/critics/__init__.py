"""The four critics, by name, and the Scorer that runs them with shared backbone work.

The names are here without importing torch (input checks run before any model); the critic
classes, `CRITICS` (whose order is SCORE_NAMES) and the `Scorer` load on first use from
harness.critics.registry.
"""
from __future__ import annotations

SCORE_NAMES = ("text_image", "image_real", "region_word", "word_label")
_LAZY = ("CRITICS", "CaptionContext", "Critic", "Features", "Scorer", "crop_boxes", "make_critics")


def __getattr__(name: str):
    if name in _LAZY:
        from harness.critics import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'harness.critics' has no attribute {name!r}")


__all__ = ["SCORE_NAMES", *_LAZY]
