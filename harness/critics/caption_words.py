"""Caption words: the content words the region_word and word_label critics compare against.

Words follow Unicode: runs of letters (any script; apostrophes and hyphens inside a word kept),
lower-cased, and every character of a script written without spaces (Han, Hiragana, Katakana) is a
word of its own, as BERT's basic tokenizer splits CJK text; a run of digits is a word ("42"), punctuation
is not.
Content words are those not in a small English stop-word list (articles, prepositions, pronouns,
auxiliaries). Fallback, documented: a caption whose every word is a stop word uses all its words; a
caption with no word at all is a HarnessError. `latin_script` says whether a caption is written in
the Latin script the default models were trained on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import HarnessError

STOP_WORDS = frozenset("""
a an the this that these those some any each every no of on in at by to for from with without into onto
over under above below near next beside behind between among through across along around up down out off
and or but nor so yet as than then there here is are was were be been being am do does did has have had
it its it's he she they them his her their we us our you your i me my mine its while very just also
""".split())

# Han (CJK unified ideographs and extensions, compatibility), Hiragana, Katakana: no spaces between words
_CJK = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f")
_LETTERS = r"[^\W\d_]"
_WORD = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}]){_LETTERS})+(?:['’-](?:(?![{_CJK}]){_LETTERS})+)*|\d+")


def words(caption: str) -> list[str]:
    """All words of `caption`, lower-cased, in order (any script; CJK characters one word each)."""
    return _WORD.findall(caption.lower())


def latin_script(caption: str) -> bool:
    """Whether every letter of the caption is Latin (the script the default CLIP and BERT were trained on)."""
    import unicodedata

    return all(not ch.isalpha() or "LATIN" in unicodedata.name(ch, "") for ch in caption)


@dataclass(frozen=True)
class CaptionWords:
    """The words of one caption and which of them are content words."""

    caption: str
    tokens: tuple[str, ...]  # every word, in order (the context the word embedder sees)
    content_index: tuple[int, ...]  # indices into tokens of the content words

    @property
    def content(self) -> list[str]:
        return [self.tokens[i] for i in self.content_index]


def caption_words(caption: str) -> CaptionWords:
    """Split a caption into words and pick its content words (see module docstring)."""
    tokens = tuple(words(caption))
    if not tokens:
        raise HarnessError(f"caption {caption!r} has no words; give a caption with at least one word")
    index = tuple(i for i, w in enumerate(tokens) if w not in STOP_WORDS)
    return CaptionWords(caption, tokens, index or tuple(range(len(tokens))))
