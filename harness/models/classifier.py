"""ImageNet classifier backbone (torchvision VGG-19_bn, a tiny VGG, or any torchvision-style module):
logits and category names, with the weights' own evaluation preprocessing."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from harness.errors import HarnessError, WeightsMissingError
from harness.models.backbone import ImageBackbone
from harness.models.preprocess import Preprocess, from_torchvision


class ClassifierBackbone(ImageBackbone):
    """logits: images float [B, 3, H, W] in [0, 1] -> [B, C] raw logits; categories: C names.

    model: any module mapping normalised [B, 3, S, S] to [B, C] logits (torchvision-style);
    preprocessing: how its weights were evaluated (for torchvision weights: `from_torchvision`)."""

    def __init__(self, model, categories: list[str], preprocessing: Preprocess, name: str = "classifier",
                 batch_size: int = 64):
        super().__init__(model, preprocessing, name, batch_size)
        self.categories = list(categories)

    @torch.inference_mode()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        from harness.models.precision import autocast

        out = []
        for chunk in images.split(self.batch_size):
            x = self.preprocess(chunk.to(self.device))
            if self.device.type == "cuda":
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast(self.device, self.precision):
                out.append(self.model(x).float())
        return torch.cat(out)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def make_vgg(cfg: dict) -> torch.nn.Module:
    """torchvision's VGG class on a tiny layer config, with a small head in place of the 4096-wide one."""
    from torch import nn
    from torchvision.models.vgg import VGG, make_layers

    model = VGG(make_layers(cfg["layers"], batch_norm=cfg["batch_norm"]), num_classes=cfg["num_classes"],
                init_weights=False)
    channels = [c for c in cfg["layers"] if c != "M"][-1]
    model.classifier = nn.Sequential(nn.Linear(channels * 7 * 7, cfg["hidden"]), nn.ReLU(True), nn.Dropout(0.5),
                                     nn.Linear(cfg["hidden"], cfg["num_classes"]))
    return model



def imagenet_categories() -> list[str]:
    """The 1000 ImageNet category names from torchvision's weight metadata (no download)."""
    from torchvision.models import VGG19_BN_Weights

    return list(VGG19_BN_Weights.IMAGENET1K_V1.meta["categories"])


def torchvision_checkpoint(weights_name: str) -> Path:
    """Where torch.hub keeps a torchvision weights file (it may not be there)."""
    from torchvision.models import VGG19_BN_Weights

    try:
        weights = VGG19_BN_Weights[weights_name]
    except KeyError:
        raise HarnessError(f"unknown vgg19_bn weights {weights_name!r}; use IMAGENET1K_V1 or a .pth file") from None
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def load_classifier(arch: str, weights: str | None, device: str, batch_size: int = 64) -> ClassifierBackbone:
    """Load a classifier.

    arch: 'vgg19_bn' or a tiny-model folder (config.json + .pth state dict).
    weights: for vgg19_bn, a weights enum name (IMAGENET1K_V1, read from torch.hub's cache), a
    state-dict file, or None for random weights.
    """
    from torchvision.models import vgg19_bn

    folder = Path(arch)
    if folder.is_dir():
        cfg = json.loads((folder / "config.json").read_text())
        model = make_vgg(cfg)
        state_file = next(folder.glob("*.pth"))
        model.load_state_dict(torch.load(state_file, map_location="cpu", weights_only=True), strict=True)
        size = int(cfg["image_size"])  # the tiny model was made for its own size: its transform is a resize
        preprocessing = Preprocess(size=size, resize=size, mean=IMAGENET_MEAN, std=IMAGENET_STD)
        return ClassifierBackbone(model.to(device), imagenet_categories(), preprocessing,
                                  name=f"vgg-tiny:{folder}", batch_size=batch_size)
    if arch != "vgg19_bn":
        raise HarnessError(f"unknown classifier {arch!r}; use vgg19_bn or a tiny-model folder")
    from torchvision.models import VGG19_BN_Weights

    model = vgg19_bn(weights=None)
    if weights:
        path = Path(weights) if Path(weights).is_file() else torchvision_checkpoint(weights)
        if not path.is_file():
            raise WeightsMissingError(f"vgg19_bn weights {weights} are not in torch.hub's cache ({path}); run "
                                      "'harness models fetch' with a network, or pass --set models.classifier_weights=FILE")
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    # the evaluation transform of the weights' enum (a weights file: IMAGENET1K_V1's, which it was trained with)
    enum = VGG19_BN_Weights[weights] if weights in VGG19_BN_Weights.__members__ else VGG19_BN_Weights.IMAGENET1K_V1
    return ClassifierBackbone(model.to(device), imagenet_categories(), from_torchvision(enum),
                              name=f"vgg19_bn/{weights or 'random'}", batch_size=batch_size)
