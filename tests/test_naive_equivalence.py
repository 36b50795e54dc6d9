"""The batched Scorer and the reference per-individual loop give the same scores."""
from __future__ import annotations

import numpy as np

from harness.critics.reference import naive_scores


def test_batched_and_per_individual_scores_agree(tiny_system, tiny_models):
    gen = tiny_system.generator
    images = gen.decode(gen.initial_latents(5, seed=11))
    caption = "a street scene with a double-decker bus on the road."
    batched = tiny_system.scorer.score(images, caption)
    naive = naive_scores(tiny_models, tiny_system.config.critics, images, caption)
    for name in batched:
        np.testing.assert_allclose(naive[name], batched[name], atol=1e-5, rtol=0, err_msg=name)
