"""word_label: how well the classifier's predicted label(s) match the caption's words.

Flair word embeddings: each content word in the caption's context, each ImageNet label as the mean
of its words. For label c, sim[c] = max over content words of cos(label_c, word). Per image, the
top_k labels of softmax(logits / T) are weighted by their probability:
score = sum_k p_k sim[c_k] / sum_k p_k, in [-1, 1]. Label embeddings are computed once per backbone,
word embeddings once per caption.
"""
from __future__ import annotations

import torch

from harness.critics.base import CaptionContext, Critic, Features
from harness.critics.image_real import tempered_softmax


class WordLabelCritic(Critic):
    backbones = ("classifier", "words")
    score_range = (-1.0, 1.0)

    def __init__(self, classifier, words, cfg=None):
        self.classifier = classifier
        self.words = words
        self.top_k = cfg.top_k if cfg is not None else 1
        self.temperature = cfg.temperature if cfg is not None else 1.0
        self._labels: torch.Tensor | None = None

    def _backbones(self) -> dict:
        return {"classifier": self.classifier}

    def label_embeddings(self) -> torch.Tensor:
        """[C, E] unit vectors of the classifier's category names."""
        if self._labels is None:
            self._labels = self.words.embed_phrases(list(self.classifier.categories))
        return self._labels

    def label_similarity(self, context: CaptionContext) -> torch.Tensor:
        """[C]: for each label, its best cosine with a content word of the caption."""
        def compute():
            tokens = self.words.embed_tokens(list(context.words.tokens))  # a long caption: the words that fit
            index = [i for i in context.words.content_index if i < len(tokens)] or list(range(len(tokens)))
            return (self.label_embeddings() @ tokens[index].T).max(dim=1).values
        return context.get("word_label_sim", compute)

    def _score(self, features: Features, context: CaptionContext) -> torch.Tensor:
        probs = tempered_softmax(features.logits, self.temperature)
        top = probs.topk(self.top_k, dim=-1)
        sim = self.label_similarity(context)[top.indices]
        return (top.values * sim).sum(-1) / top.values.sum(-1)
