"""How a BigGAN genome encodes the class: `generator.class_genome`.

  softmax    C class logits in [-b, b]; class vector = softmax(logits) (CLIP-GLaSS's genome). Logits
             drawn N(0, 1) give a near-uniform mixture (~600 classes in effect of 1000).
  sparse     k class indices (integer genes in [0, C-1]) and k weight logits in [-b, b]; class vector
             = sum_j softmax(weights)_j one_hot(index_j) (k = generator.active_classes; big-sleep's
             idea of searching a few classes). With k = 1 every image is of exactly one class.
  embedding  BigGAN's class embedding (its `embeddings` layer's output, z_dim wide) searched
             directly, initialised from real classes' embeddings (FuseDream's space); bounds are the
             per-dimension range of the 1000 class embeddings widened by EMBED_MARGIN on each side.

Each genome knows its genes' blocks (for per-block operators), its bounds, its initial draw, the
network input it decodes to, and per individual the class description the archive records:
top_class (ImageNet index), top_class_weight, effective_classes = exp(entropy of the class weights);
for `embedding`, top_class is the class whose embedding is nearest (cosine) and the other two are NaN.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

EMBED_MARGIN = 0.25


@dataclass(frozen=True)
class Block:
    """A contiguous run of genes that one operator setting applies to."""

    name: str  # noise | class_logits | class_index | class_weight | class_embedding | latent
    start: int
    stop: int
    integer: bool = False  # integer genes: the operators round them
    gaussian: bool = False  # genes drawn N(0, 1) that must stay so (a diffusion model's initial noise)

    def shift(self, offset: int) -> "Block":
        return Block(self.name, self.start + offset, self.stop + offset, self.integer, self.gaussian)


def describe_weights(weights: np.ndarray) -> dict[str, np.ndarray]:
    """weights [N, C] (rows sum to 1) -> top_class, top_class_weight, effective_classes per row."""
    w = np.asarray(weights, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(w > 0, w * np.log(w), 0.0).sum(axis=1)
    return {"top_class": w.argmax(axis=1).astype(np.int64), "top_class_weight": w.max(axis=1),
            "effective_classes": np.exp(entropy)}


class SoftmaxGenome:
    name = "softmax"

    def __init__(self, num_classes: int, class_bound: float):
        self.num_classes, self.bound = num_classes, class_bound
        self.dim = num_classes

    def blocks(self) -> list[Block]:
        return [Block("class_logits", 0, self.dim)]

    def bounds(self):
        return np.full(self.dim, -self.bound), np.full(self.dim, self.bound)

    def initial(self, n, rng):
        return np.clip(rng.standard_normal((n, self.dim)), -self.bound, self.bound)

    def class_vectors(self, genes: torch.Tensor) -> torch.Tensor:
        return torch.softmax(genes.float(), dim=1)

    def one_class(self, c: int) -> np.ndarray:
        """Genes that make class `c` dominant (as far as the bounds allow)."""
        genes = np.full(self.dim, -self.bound)
        genes[c] = self.bound
        return genes

    def describe(self, genes: np.ndarray) -> dict[str, np.ndarray]:
        return describe_weights(self.class_vectors(torch.as_tensor(genes)).double().numpy())


class SparseGenome:
    name = "sparse"

    def __init__(self, num_classes: int, class_bound: float, active: int):
        self.num_classes, self.bound, self.k = num_classes, class_bound, active
        self.dim = 2 * active

    def blocks(self) -> list[Block]:
        return [Block("class_index", 0, self.k, integer=True), Block("class_weight", self.k, self.dim)]

    def bounds(self):
        xl = np.concatenate([np.zeros(self.k), np.full(self.k, -self.bound)])
        xu = np.concatenate([np.full(self.k, self.num_classes - 1.0), np.full(self.k, self.bound)])
        return xl, xu

    def initial(self, n, rng):
        index = rng.integers(0, self.num_classes, (n, self.k)).astype(np.float64)
        weight = np.clip(rng.standard_normal((n, self.k)), -self.bound, self.bound)
        return np.concatenate([index, weight], axis=1)

    def one_class(self, c: int) -> np.ndarray:
        return np.concatenate([np.full(self.k, float(c)), np.zeros(self.k)])

    def class_vectors(self, genes: torch.Tensor) -> torch.Tensor:
        index = genes[:, : self.k].round().clamp(0, self.num_classes - 1).long()
        weight = torch.softmax(genes[:, self.k:].float(), dim=1)
        out = torch.zeros(len(genes), self.num_classes, device=genes.device)
        return out.scatter_add_(1, index, weight)  # a class drawn twice adds its weights

    def describe(self, genes: np.ndarray) -> dict[str, np.ndarray]:
        return describe_weights(self.class_vectors(torch.as_tensor(genes)).double().numpy())


class EmbeddingGenome:
    name = "embedding"

    def __init__(self, embeddings: torch.Tensor):
        self.table = embeddings.detach().double().cpu().numpy()  # [C, E]: class c's embedding
        self.dim = self.table.shape[1]
        lo, hi = self.table.min(axis=0), self.table.max(axis=0)
        pad = EMBED_MARGIN * (hi - lo) + 1e-6
        self.lo, self.hi = lo - pad, hi + pad

    def blocks(self) -> list[Block]:
        return [Block("class_embedding", 0, self.dim)]

    def bounds(self):
        return self.lo, self.hi

    def initial(self, n, rng):
        return self.table[rng.integers(0, len(self.table), n)]

    def one_class(self, c: int) -> np.ndarray:
        return self.table[c].copy()

    def describe(self, genes: np.ndarray) -> dict[str, np.ndarray]:
        g = np.asarray(genes, dtype=np.float64)
        t = self.table / np.linalg.norm(self.table, axis=1, keepdims=True).clip(1e-12)
        cos = (g / np.linalg.norm(g, axis=1, keepdims=True).clip(1e-12)) @ t.T
        nan = np.full(len(g), np.nan)
        return {"top_class": cos.argmax(axis=1).astype(np.int64), "top_class_weight": nan, "effective_classes": nan}


CLASS_GENOMES = ("softmax", "sparse", "embedding")


def make_class_genome(name: str, net, class_bound: float, active_classes: int):
    num_classes = int(net.config.num_classes)
    if name == "softmax":
        return SoftmaxGenome(num_classes, class_bound)
    if name == "sparse":
        return SparseGenome(num_classes, class_bound, active_classes)
    return EmbeddingGenome(net.embeddings.weight.T)  # nn.Linear(C, E).weight is [E, C]
