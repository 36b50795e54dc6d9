"""Known answers: the report's temperature example, and region_word / word_label on hand-built
backbones whose embeddings are chosen so the right answer is known."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from harness.config.schema import ImageRealConfig, RegionWordConfig, WordLabelConfig
from harness.critics.base import CaptionContext
from harness.critics.image_real import ImageRealCritic, tempered_softmax
from harness.critics.region_word import RegionWordCritic
from harness.critics.text_image import TextImageCritic
from harness.critics.word_label import WordLabelCritic


@pytest.mark.parametrize("temperature, expected", [(1.0, [0.25, 0.75]), (0.5, [0.1, 0.9]), (5.0, [0.445, 0.555])])
def test_report_temperature_example(temperature, expected):
    probs = tempered_softmax(torch.tensor([-1.386, -0.288]), temperature)
    torch.testing.assert_close(probs, torch.tensor(expected), atol=1e-3, rtol=0)


class ColorClip:
    """A hand-built CLIP: an image's embedding is its mean colour; words map to colour axes."""

    image_size = 8
    VECS = {"red": [1.0, 0, 0], "green": [0, 1.0, 0], "blue": [0, 0, 1.0], "red and blue": [1.0, 0, 1.0]}

    def __init__(self):
        self.image_calls = 0

    def encode_image(self, images):
        self.image_calls += len(images)
        return F.normalize(images.mean(dim=(2, 3)), dim=-1)

    def encode_text(self, texts):
        return F.normalize(torch.tensor([self.VECS[t] for t in texts]), dim=-1)


def halves(left, right, size=16):
    img = torch.zeros(1, 3, size, size)
    img[0, :, :, : size // 2] = torch.tensor(left).view(3, 1, 1)
    img[0, :, :, size // 2:] = torch.tensor(right).view(3, 1, 1)
    return img


def test_region_word_known_answer():
    clip = ColorClip()
    critic = RegionWordCritic(clip, RegionWordConfig(grid=2, center=True, prompt="{}"))
    ctx = CaptionContext("red and blue")
    assert ctx.words.content == ["red", "blue"]
    red_blue = halves([1.0, 0, 0], [0, 0, 1.0])  # each word finds a crop of exactly its colour
    all_red = halves([1.0, 0, 0], [1.0, 0, 0])  # red finds itself (1), blue finds nothing (0)
    scores = critic.score(torch.cat([red_blue, all_red]), ctx)
    torch.testing.assert_close(scores, torch.tensor([1.0, 0.5]), atol=1e-6, rtol=0)
    assert clip.image_calls == 2 * 5  # 4 grid crops + 1 centre crop per image, no full-image pass


def test_text_image_known_answer():
    critic = TextImageCritic(ColorClip())
    ctx = CaptionContext("red and blue")
    scores = critic.score(torch.cat([halves([1.0, 0, 0], [1.0, 0, 0]), halves([1.0, 0, 0], [0, 0, 1.0])]), ctx)
    torch.testing.assert_close(scores, torch.tensor([1 / math.sqrt(2), 1.0]), atol=1e-6, rtol=0)


class FixedClassifier:
    """Logits are read from the image's first row: image[b, 0, 0, :C]."""

    categories = ["cat", "table", "car"]

    def logits(self, images):
        return images[:, 0, 0, : len(self.categories)] * 10.0


class DictWords:
    """Word vectors by hand: cat = e1, table = e2, car halfway between them."""

    VECS = {"cat": [1.0, 0, 0], "table": [0, 1.0, 0], "car": [1.0, 1.0, 0], "a": [0, 0, 1.0], "on": [0, 0, 1.0],
            "the": [0, 0, 1.0]}

    def embed_tokens(self, tokens):
        return F.normalize(torch.tensor([self.VECS[t] for t in tokens]), dim=-1)

    def embed_phrases(self, phrases):
        return self.embed_tokens(phrases)


def logit_images(*rows):
    img = torch.zeros(len(rows), 3, 4, 4)
    for i, row in enumerate(rows):
        img[i, 0, 0, :3] = torch.tensor(row)
    return img


def test_word_label_known_answer():
    ctx = CaptionContext("a cat on the table")
    assert ctx.words.content == ["cat", "table"]
    images = logit_images([1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0])  # predicted: cat, table, car
    top1 = WordLabelCritic(FixedClassifier(), DictWords(), WordLabelConfig(top_k=1)).score(images, ctx)
    torch.testing.assert_close(top1, torch.tensor([1.0, 1.0, 1 / math.sqrt(2)]), atol=1e-6, rtol=0)
    # top_k=2 weights the two labels by their softmax probability: image 3 is car (p1) then cat/table (p2)
    top2 = WordLabelCritic(FixedClassifier(), DictWords(), WordLabelConfig(top_k=2)).score(images[2:], ctx)
    p = torch.softmax(torch.tensor([0.0, 0.0, 10.0]), 0)
    expected = (p[2] / math.sqrt(2) + p[0] * 1.0) / (p[2] + p[0])
    torch.testing.assert_close(top2, expected.view(1), atol=1e-6, rtol=0)


def test_image_real_is_top_probability_and_follows_temperature():
    images = logit_images([0.1, 0.0, 0.3])
    sharp = ImageRealCritic(FixedClassifier(), ImageRealConfig(temperature=0.5)).score(images, CaptionContext("cat"))
    flat = ImageRealCritic(FixedClassifier(), ImageRealConfig(temperature=5.0)).score(images, CaptionContext("cat"))
    expected = torch.softmax(torch.tensor([1.0, 0.0, 3.0]) / 0.5, 0).max()
    torch.testing.assert_close(sharp, expected.view(1), atol=1e-6, rtol=0)
    assert sharp.item() > flat.item()


def test_caption_without_content_words_falls_back_and_empty_caption_is_an_error():
    from harness.errors import HarnessError

    assert CaptionContext("on the").words.content == ["on", "the"]
    with pytest.raises(HarnessError):
        CaptionContext("...")
