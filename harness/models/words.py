"""Word-embedding backbone: Flair TransformerWordEmbeddings (BERT) for caption words and labels."""
from __future__ import annotations

import torch
import torch.nn.functional as F


class WordBackbone:
    """Contextual word embeddings from Flair.

    embed_tokens: a list of W words (one sentence, pre-tokenized) -> [W, E] unit vectors.
    embed_phrases: N phrases -> [N, E] unit vectors (mean of each phrase's word embeddings).
    """

    def __init__(self, embeddings, name: str = "words"):
        self.embeddings = embeddings
        self.name = name

    @property
    def window(self) -> int:
        """Subword tokens the model reads at once, [CLS] and [SEP] excluded (510 for BERT-base)."""
        model = getattr(self.embeddings, "model", None)
        positions = getattr(getattr(model, "config", None), "max_position_embeddings", 512) or 512
        tokenizer_max = getattr(getattr(self.embeddings, "tokenizer", None), "model_max_length", positions) or positions
        return int(min(positions, tokenizer_max)) - 2

    def fitting(self, tokens: list[str]) -> int:
        """How many of `tokens` (from the first) fit in the model's window: a longer caption is truncated, as its
        CLIP encoding is (the suite warns before compute)."""
        tokenizer = getattr(self.embeddings, "tokenizer", None)
        if tokenizer is None:
            return len(tokens)
        used, limit = 0, self.window
        for i, word in enumerate(tokens):
            used += max(1, len(tokenizer.tokenize(word)))
            if used > limit:
                return max(i, 1)
        return len(tokens)

    @torch.inference_mode()
    def embed_tokens(self, tokens: list[str]) -> torch.Tensor:
        """[W', E] unit vectors of the first W' <= W words that fit in the model's window (`fitting`)."""
        from flair.data import Sentence

        sentence = Sentence(list(tokens)[:self.fitting(list(tokens))])
        self.embeddings.embed(sentence)
        vecs = torch.stack([t.embedding.detach().float().cpu() for t in sentence])
        return F.normalize(vecs, dim=-1)

    @torch.inference_mode()
    def embed_phrases(self, phrases: list[str]) -> torch.Tensor:
        from flair.data import Sentence

        sentences = [Sentence(p.replace("_", " ").split() or [p]) for p in phrases]
        self.embeddings.embed(sentences)
        vecs = [torch.stack([t.embedding.detach().float().cpu() for t in s]).mean(0) for s in sentences]
        return F.normalize(torch.stack(vecs), dim=-1)


def load_words(model: str, device: str) -> WordBackbone:
    """Flair TransformerWordEmbeddings on a Hugging Face model id or a local folder (mean subtoken pooling)."""
    import flair
    from flair.embeddings import TransformerWordEmbeddings

    flair.device = torch.device(device)
    embeddings = TransformerWordEmbeddings(model, layers="-1", subtoken_pooling="mean", fine_tune=False,
                                           allow_long_sentences=True)
    embeddings.eval()
    return WordBackbone(embeddings, name=str(model))
