"""Captions longer than CLIP's context window (77 tokens), found before any compute.

Policy (`long_captions` in suite.yaml): `truncate` (default) keeps the caption, warns up front with
the ids and token counts, and records the warning in the manifest: CLIP then sees only the first
75 tokens, as its tokenizer truncates. `reject` makes it a one-line error naming the caption.
"""
from __future__ import annotations

from functools import lru_cache

from harness.config.schema import RunConfig
from harness.errors import ConfigError
from harness.suites.captions import Caption

CONTEXT_LENGTH = 77


@lru_cache(maxsize=1)
def _tokenizer():
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer()


def clip_token_count(text: str) -> int:
    """Tokens `text` takes in CLIP's window with start and end tokens (open_clip's BPE tokenizer)."""
    return len(_tokenizer().encode(text)) + 2


def may_be_too_long(text: str) -> bool:
    """Every BPE token covers at least one non-space character, so a caption with at most 75 of them
    fits: only longer ones need the tokenizer (and torch, which open_clip imports)."""
    return len("".join(text.split())) > CONTEXT_LENGTH - 2


def check_caption_lengths(captions: list[Caption], run: RunConfig, policy: str, where: str):
    too_long = [(c, n) for c in captions
                if may_be_too_long(c.text) and (n := clip_token_count(c.text)) > CONTEXT_LENGTH]
    if not too_long:
        return captions, []
    listing = ", ".join(f"{c.id} ({n} tokens)" for c, n in too_long[:5]) + (" ..." if len(too_long) > 5 else "")
    if policy == "reject":
        raise ConfigError(f"{where}: {len(too_long)} caption(s) exceed CLIP's {CONTEXT_LENGTH}-token window: "
                          f"{listing}; shorten them or set long_captions: truncate")
    return captions, [f"{len(too_long)} caption(s) exceed CLIP's {CONTEXT_LENGTH}-token window and are truncated "
                      f"by CLIP (and, past its 510-subword window, by the word model): {listing}"]


def script_warnings(captions: list[Caption], run: RunConfig) -> list[str]:
    """Captions not in the Latin script, when the profile's English-only models read them (CLIP ViT-B-32/openai
    and bert-base-uncased, or the tiny models' English vocabularies): they run, and the run says so once."""
    from harness.critics.caption_words import latin_script

    if run.models.clip is not None and run.models.words is not None:
        return []  # the user chose both text models
    other = [c.id for c in captions if not latin_script(c.text)]
    if not other:
        return []
    listing = ", ".join(other[:5]) + (" ..." if len(other) > 5 else "")
    return [f"{len(other)} caption(s) are not in the Latin script ({listing}): the profile's text models (CLIP and the "
            "word embedder) were trained on English, so their scores of these captions say little; they run "
            "(set models.clip and models.words to multilingual models to judge them)"]
