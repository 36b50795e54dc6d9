"""The builders of harness.tiny: the `tiny` profile's small seeded models (and the `random` profile's random words),
written in the real file formats.

Each builder seeds torch, builds a small real model with the library's own classes, and saves it
the way the real weights are distributed, so the same loaders read it back:

* CLIP: an open_clip folder (`open_clip_config.json` + `open_clip_pytorch_model.bin`), read with
  `open_clip.create_model('local-dir:...')`; `evaluator_clip` is a second one of another width and
  seed, the profile's held-out CLIPScore judge.
* classifier: torchvision's `VGG` class with a tiny layer config and a small head, calibrated on the
  tiny generator's images, saved as a state dict (`.pth`) beside a `config.json` naming the layer config.
* words: a 1-layer `BertModel` + WordPiece vocabulary saved with `save_pretrained`, read by
  Flair's `TransformerWordEmbeddings`.
* generator: a small `BigGANConfig` saved as `config.json` + `pytorch_model.bin`.
* stylegan2: a small StyleGAN2 generator written as a StyleGAN2-ADA network pickle (persistent-object
  records), read back by the safe loader of harness.models.stylegan2.
"""
from __future__ import annotations

import json
import string
from pathlib import Path

import torch

from harness.models import cache, diffusion
from harness.models.classifier import IMAGENET_MEAN, IMAGENET_STD, make_vgg
from harness.models.hub import CLIP_MEAN, CLIP_STD, clip_processor


TINY_CLIP_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
TINY_EVALUATOR_CLIP_CFG = {  # the tiny profile's held-out CLIPScore judge: another width and seed than TINY_CLIP_CFG
    "embed_dim": 48,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 48, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 48, "heads": 3, "layers": 1},
}
TINY_VGG_CFG = {"layers": [8, "M", 16, "M", 32, "M"], "batch_norm": True, "hidden": 64,
                "num_classes": 1000, "image_size": 32}
TINY_BIGGAN_CFG = {"output_dim": 32, "z_dim": 16, "class_embed_dim": 16, "channel_width": 8,
                   "num_classes": 1000, "layers": [[True, 16, 8], [True, 8, 4], [True, 4, 2], [False, 2, 1]],
                   "attention_layer_position": 2, "eps": 1e-4, "n_stats": 51}
TINY_STYLEGAN2_CFG = {"z_dim": 32, "c_dim": 0, "w_dim": 32, "img_resolution": 32, "img_channels": 3,
                      "mapping_kwargs": {"num_layers": 2},
                      "synthesis_kwargs": {"channel_base": 512, "channel_max": 32, "conv_clamp": 256}}
TINY_HF_CLIP = {"text_config": {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 2,
                                "num_hidden_layers": 1, "max_position_embeddings": 77, "vocab_size": 49408},
                "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 2,
                                  "num_hidden_layers": 1, "image_size": 32, "patch_size": 8},
                "projection_dim": 24}
TINY_HPS_CLIP_CFG = {  # the tiny HPSv2 judge's architecture (ViT-H-14's stand-in)
    "embed_dim": 24,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
BUILT = {"clip": "build_clip", "evaluator_clip": "build_evaluator_clip", "classifier": "build_classifier",
         "words": "build_words", "generator": "build_generator", "stylegan2": "build_stylegan2",
         "pickscore": "build_pickscore", "hpsv2_base": "build_hps_base", "hpsv2": "build_hps", "detector": "build_detector",
         "diffusion": "build_diffusion", "random-words": "build_random_words"}  # component -> its builder here
BERT_COMMON_WORDS = (
    "a an the on in of with at by to and is are lay lays lying sitting table cat dog street scene bus road "
    "double decker sunset skyline red blue green man woman car tree house sky water bird flower").split()


def build_clip(folder: Path, cfg: dict | None = None, seed: int = 0) -> None:
    import open_clip

    cfg = cfg or TINY_CLIP_CFG
    torch.manual_seed(seed)
    model = open_clip.CLIP(**cfg)
    config = {"model_cfg": cfg,
              "preprocess_cfg": {"mean": list(CLIP_MEAN), "std": list(CLIP_STD), "interpolation": "bicubic",
                                 "resize_mode": "shortest"}}
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")


def calibration_images(n: int = 512, seed: int = 0) -> torch.Tensor:
    """Images of the tiny BigGAN ([n, 3, 32, 32] in [0, 1]): half from one class each, half from a
    softmax mixture of classes, the two class vectors the search's genomes produce."""
    from pytorch_pretrained_biggan import BigGAN

    net = BigGAN.from_pretrained(str(cache.tiny_model_dir("generator"))).eval()
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, net.config.z_dim, generator=g).clamp(-2, 2)
    one_hot = torch.nn.functional.one_hot(torch.randint(0, net.config.num_classes, (n // 2,), generator=g),
                                          net.config.num_classes).float()
    mixture = torch.softmax(torch.randn(n - n // 2, net.config.num_classes, generator=g), dim=1)
    with torch.no_grad():
        return (net(z, torch.cat([one_hot, mixture]), 1.0) + 1.0) / 2.0


def build_classifier(folder: Path) -> None:
    """A random tiny VGG made to discriminate among the tiny generator's images, by the usual
    data-dependent initialisation: BatchNorm statistics measured on those images, and each head
    layer scaled so its outputs have zero mean and unit variance over them (LSUV). Without it the
    random head gives one or two labels to almost every image, and word_label is near-constant."""
    from torchvision.transforms.functional import normalize

    torch.manual_seed(0)
    model = make_vgg(TINY_VGG_CFG)
    x = normalize(calibration_images(), IMAGENET_MEAN, IMAGENET_STD)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average: the statistics of the whole calibration set
    with torch.no_grad():
        model.train()(x)
        model.eval()
        h = model.avgpool(model.features(x)).flatten(1)
        for i in (0, 3):  # the two Linear layers of the head
            out = model.classifier[i](h)
            mean, std = out.mean(0), out.std(0).clamp(min=1e-6)
            model.classifier[i].weight.div_(std[:, None])
            model.classifier[i].bias.sub_(mean).div_(std)
            h = torch.relu(model.classifier[i](h))
    (folder / "config.json").write_text(json.dumps({"arch": "vgg", **TINY_VGG_CFG}, indent=2))
    torch.save(model.state_dict(), folder / "vgg_tiny.pth")


def wordpiece_vocab() -> list[str]:
    """Special tokens, some whole words, and single characters (plain and ##) so any word tokenizes."""
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + BERT_COMMON_WORDS + chars
             + ["##" + c for c in string.ascii_lowercase + string.digits])
    return list(dict.fromkeys(vocab))


def build_words(folder: Path, hidden: int = 32, layers: int = 1, heads: int = 2, intermediate: int = 64) -> None:
    from transformers import BertConfig, BertModel, BertTokenizer

    (folder / "vocab.txt").write_text("\n".join(wordpiece_vocab()) + "\n")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer.vocab), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=intermediate, max_position_embeddings=512)
    model = BertModel(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def build_generator(folder: Path) -> None:
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig

    from harness.models.biggan import init_random

    torch.manual_seed(0)
    config = BigGANConfig(**{**TINY_BIGGAN_CFG, "layers": [tuple(x) for x in TINY_BIGGAN_CFG["layers"]]})
    model = init_random(BigGAN(config))
    (folder / "config.json").write_text(config.to_json_string())
    torch.save(model.state_dict(), folder / "pytorch_model.bin")


def build_stylegan2(folder: Path, cfg: dict | None = None, seed: int = 0) -> None:
    """A seeded random StyleGAN2 with a tracked average w and non-zero noise strengths, as a network pickle."""
    from harness.models.stylegan2 import Generator, write_network_pickle

    torch.manual_seed(seed)
    net = Generator(**(cfg or TINY_STYLEGAN2_CFG)).eval()
    with torch.no_grad():
        c = torch.eye(net.c_dim)[torch.arange(1000) % net.c_dim] if net.c_dim else None
        net.mapping.w_avg.copy_(net.mapping(torch.randn(1000, net.z_dim), c)[:, 0].mean(0))
        for name, p in net.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.1)
            if name.endswith("torgb.weight"):
                p.mul_(0.5)  # fewer saturated pixels
    write_network_pickle(folder / cache.STYLEGAN2_PICKLE, net)


def build_pickscore(folder: Path) -> None:
    """A tiny transformers CLIPModel with its processor, saved with save_pretrained (PickScore's format)."""
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(3)
    CLIPModel(CLIPConfig(**TINY_HF_CLIP)).save_pretrained(folder)
    clip_processor(folder, TINY_HF_CLIP["vision_config"]["image_size"])


def build_hps(folder: Path) -> None:
    """The tiny HPSv2 checkpoint: a file holding `state_dict` for the tiny HPS architecture (another seed
    than the architecture folder's own weights, as HPS's fine-tuned weights differ from the base CLIP's)."""
    import open_clip

    torch.manual_seed(5)
    model = open_clip.CLIP(**TINY_HPS_CLIP_CFG)
    torch.save({"state_dict": model.state_dict()}, folder / cache.TINY_HPS_FILE)


TINY_DETECTOR = {"backbone": {"image_size": 64, "patch_size": 4, "embed_dim": 16, "depths": [1, 1, 1, 1],
                              "num_heads": [1, 1, 1, 2], "window_size": 4},
                 "model": {"feature_size": 32, "mask_feature_size": 32, "hidden_dim": 32, "encoder_feedforward_dim": 64,
                           "encoder_layers": 1, "decoder_layers": 2, "num_attention_heads": 2, "dim_feedforward": 64,
                           "num_queries": 16}}


def build_detector(folder: Path) -> None:
    """A tiny Mask2Former (Swin backbone, COCO's 80 classes) and its image processor, with save_pretrained."""
    from transformers import Mask2FormerForUniversalSegmentation, Mask2FormerImageProcessor

    from harness.judges.detector import detector_config

    torch.manual_seed(6)
    Mask2FormerForUniversalSegmentation(detector_config(**TINY_DETECTOR)).save_pretrained(folder)
    Mask2FormerImageProcessor(size={"shortest_edge": 64, "longest_edge": 128}, size_divisor=32).save_pretrained(folder)


TINY_UNET = dict(sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(16, 32),
                 down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D",
                                                                                         "CrossAttnUpBlock2D"),
                 cross_attention_dim=32, attention_head_dim=4, norm_num_groups=8)
TINY_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 16, 16), layers_per_block=1,
                down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3, norm_num_groups=8,
                sample_size=32)
TINY_TEXT = dict(hidden_size=32, intermediate_size=64, num_attention_heads=2, num_hidden_layers=1, vocab_size=49408,
                 max_position_embeddings=77)


def build_diffusion(folder: Path) -> None:
    """The tiny pipeline (32 px images from 4 x 8 x 8 noise), written with save_pretrained."""
    import shutil

    diffusion.build_pipeline(folder, TINY_UNET, TINY_VAE, TINY_TEXT, seed=7).save_pretrained(folder)
    shutil.rmtree(folder / ".tokenizer", ignore_errors=True)


def build_evaluator_clip(folder: Path) -> None:
    """The tiny profile's held-out CLIPScore judge: another width and seed than the search's CLIP."""
    build_clip(folder, TINY_EVALUATOR_CLIP_CFG, seed=1)


def build_hps_base(folder: Path) -> None:
    build_clip(folder, TINY_HPS_CLIP_CFG, seed=4)


def build_random_words(folder: Path) -> None:
    build_words(folder, hidden=768, layers=12, heads=12, intermediate=3072)
