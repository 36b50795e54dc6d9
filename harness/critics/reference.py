"""The reference per-individual scorer: how the anchor implementations evaluate, kept to measure against.

Each image goes through each critic on its own: the classifier runs twice (image_real, word_label),
crops go through CLIP one at a time, the caption, the words and the predicted label are re-encoded
on every call. It must give the same scores as the batched Scorer (tested); benchmarks time both.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from harness.critics import SCORE_NAMES, critic_specs, resolve
from harness.critics.base import crop_boxes
from harness.critics.image_real import tempered_softmax
from harness.critics.caption_words import caption_words
from harness.critics.base import CaptionContext


def naive_scores(models, cfg, images: torch.Tensor, caption: str) -> dict[str, np.ndarray]:
    """models: a Models bundle; cfg: a CriticsConfig; images float [B, 3, H, W] in [0, 1]. The built-in critics
    the anchor implementations' way (below); any other critic of the run (a plugin) through its own class, one
    image at a time with a fresh caption context, as a per-individual loop would call it."""
    cfg = resolve(cfg)
    clip, classifier, words = models.clip, models.classifier, models.words
    out = {n: np.zeros(len(images)) for n in SCORE_NAMES}
    for spec in critic_specs(cfg.plugins):
        if spec.name not in SCORE_NAMES:
            critic = spec.load().build(models, cfg.sections[spec.name])
            out[spec.name] = np.array([float(critic.score(im[None], CaptionContext(caption))[0]) for im in images])
    for i, image in enumerate(images):
        img = image[None]
        # text_image: image and caption encoded on every call
        out["text_image"][i] = float(clip.encode_image(img)[0] @ clip.encode_text([caption])[0])
        # image_real: its own classifier pass
        out["image_real"][i] = float(tempered_softmax(classifier.logits(img)[0], cfg.image_real.temperature).max())
        # region_word: every crop on its own, every word re-encoded
        cw = caption_words(caption)
        word_emb = torch.cat([clip.encode_text([cfg.region_word.prompt.format(w)]) for w in cw.content]).cpu()
        crops = []
        for top, left, h, w in crop_boxes(img.shape[2], img.shape[3], cfg.region_word.grid, cfg.region_word.center):
            crop = F.interpolate(img[:, :, top:top + h, left:left + w], size=(clip.image_size, clip.image_size),
                                 mode="bicubic", align_corners=False, antialias=True)
            crops.append(clip.encode_image(crop)[0].cpu())
        sims = torch.stack(crops) @ word_emb.T
        out["region_word"][i] = float(sims.max(dim=0).values.mean())
        # word_label: another classifier pass; the caption words and the predicted labels embedded per call
        probs = tempered_softmax(classifier.logits(img)[0].cpu(), cfg.word_label.temperature)
        top = probs.topk(cfg.word_label.top_k)
        tokens = words.embed_tokens(list(cw.tokens))[list(cw.content_index)]
        labels = words.embed_phrases([classifier.categories[j] for j in top.indices.tolist()])
        sim = (labels @ tokens.T).max(dim=1).values
        out["word_label"][i] = float((top.values * sim).sum() / top.values.sum())
    return out
