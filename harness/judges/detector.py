"""An instance-segmentation detector for the GenEval judge: Mask2Former through transformers
(`Mask2FormerForUniversalSegmentation` with its own image processor), COCO instance weights by default
(facebook/mask2former-swin-small-coco-instance, the Swin-S family GenEval's mmdetection model belongs to).

`detect(images)` turns the model's queries into instances the way mmdetection's Mask2Former instance head
does (not transformers' panoptic-style post-processing, which drops overlapping masks): per (query, class)
score = softmax class probability x mean sigmoid mask probability inside the binary mask (0.5), the top
`max_per_image` (100) pairs, masks upsampled to the image, boxes from the masks. Labels are mapped to
GenEval's COCO names (`COCO_CLASSES`); a label the mapping does not know is dropped.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from harness.config.requirements import COCO_CLASSES

DEFAULT = "facebook/mask2former-swin-small-coco-instance"
ALIASES = {"mouse": "computer mouse", "remote": "tv remote", "keyboard": "computer keyboard", "tvmonitor": "tv",
           "tv monitor": "tv", "sofa": "couch", "pottedplant": "potted plant", "diningtable": "dining table",
           "motorbike": "motorcycle", "aeroplane": "airplane", "hair dryer": "hair drier", "cellphone": "cell phone"}


def coco_name(label: str) -> str | None:
    """A detector's label as GenEval's COCO class name, or None."""
    name = " ".join(str(label).lower().replace("_", " ").replace("-", " ").split())
    name = ALIASES.get(name, name)
    return name if name in COCO_CLASSES else None


class Detector:
    """images float [N, 3, H, W] in [0, 1] -> per image a list of (label, score, box, mask) instances."""

    def __init__(self, model, processor, name: str, max_per_image: int = 100, batch_size: int = 8):
        self.model = model.eval()
        self.processor = processor
        self.name = name
        self.max_per_image = max_per_image
        self.batch_size = batch_size
        self.labels = [coco_name(model.config.id2label[i]) for i in range(len(model.config.id2label))]

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def detect(self, images: torch.Tensor) -> list[list[tuple]]:
        from harness.models.hub import to_pil

        out = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start:start + self.batch_size]
            inputs = self.processor(images=to_pil(chunk), return_tensors="pt")
            result = self.model(**{k: v.to(self.device) for k, v in inputs.items()})
            for i in range(len(chunk)):
                out.append(self._instances(result.class_queries_logits[i], result.masks_queries_logits[i],
                                           inputs["pixel_mask"][i], tuple(chunk.shape[-2:])))
        return out

    def _instances(self, class_logits, mask_logits, pixel_mask, size) -> list[tuple]:
        probs = class_logits.float().softmax(-1)[:, :-1]  # [Q, C]: the last class is "no object"
        k = min(self.max_per_image, probs.numel())
        top, index = probs.flatten().topk(k)
        queries, labels = index // probs.shape[1], index % probs.shape[1]
        height, width = int(pixel_mask.sum(0).max()), int(pixel_mask.sum(1).max())  # the resized image, unpadded
        padded = F.interpolate(mask_logits[None].float(), size=tuple(pixel_mask.shape), mode="bilinear",
                               align_corners=False)[0, :, :height, :width]
        masks = F.interpolate(padded[None], size=size, mode="bilinear", align_corners=False)[0].sigmoid()[queries]
        binary = masks > 0.5
        area = binary.flatten(1).sum(1)
        mask_scores = (masks * binary).flatten(1).sum(1) / area.clamp(min=1)
        scores = (top * mask_scores).cpu().numpy()
        out = []
        for j in range(k):
            name = self.labels[int(labels[j])]  # None: a label GenEval's COCO classes do not name (kept, counted)
            if int(area[j]) == 0:
                continue
            m = binary[j].cpu().numpy()
            ys, xs = np.nonzero(m)
            out.append((name, float(scores[j]), (float(xs.min()), float(ys.min()), float(xs.max() + 1),
                                                   float(ys.max() + 1)), m))
        return out


def load_detector(model: str, device: str = "cpu", cache_dir: Path | None = None) -> Detector:
    """Mask2Former from a folder or a Hugging Face repo in the local cache; 'tiny': the tiny profile's;
    'random:REPO': the real architecture (Swin-S Mask2Former, COCO's 80 classes) with random weights."""
    from transformers import Mask2FormerForUniversalSegmentation, Mask2FormerImageProcessor

    from harness.models import cache
    from harness.models.hub import hf_folder

    if model == "tiny":
        model = str(cache.tiny_model_dir("detector", cache_dir))
    if model.startswith("random:"):
        net, processor = random_detector()
    else:
        folder = hf_folder(model)
        net = Mask2FormerForUniversalSegmentation.from_pretrained(folder, local_files_only=True)
        processor = Mask2FormerImageProcessor.from_pretrained(folder, local_files_only=True)
    return Detector(net.to(device), processor, name=f"mask2former:{model}")


def detector_files(model: str) -> list[Path]:
    """The local files of the detector (empty: tiny or random); WeightsMissingError naming it when absent."""
    from harness.models.hub import hf_folder

    if model in ("tiny",) or model.startswith("random:"):
        return []
    folder = hf_folder(model)
    return sorted(p for p in folder.iterdir() if p.suffix in (".bin", ".safetensors", ".json"))


def detector_config(backbone: dict, model: dict):
    """A Mask2Former config over a Swin backbone with COCO's 80 instance classes (GenEval's names)."""
    from transformers import Mask2FormerConfig, SwinConfig

    from harness.config.requirements import COCO_CLASSES

    swin = SwinConfig(**backbone, out_features=["stage1", "stage2", "stage3", "stage4"])
    return Mask2FormerConfig(backbone_config=swin.to_dict(), **model, id2label=dict(enumerate(COCO_CLASSES)),
                             label2id={n: i for i, n in enumerate(COCO_CLASSES)})


def random_detector():
    """GenEval's detector architecture (Mask2Former, Swin-S, 100 queries, COCO's 80 classes) with random
    weights, and the image processor of the COCO instance checkpoints (shortest edge 384)."""
    from transformers import Mask2FormerForUniversalSegmentation, Mask2FormerImageProcessor

    torch.manual_seed(0)
    swin_s = {"image_size": 384, "patch_size": 4, "embed_dim": 96, "depths": [2, 2, 18, 2], "num_heads": [3, 6, 12, 24],
              "window_size": 12}
    net = Mask2FormerForUniversalSegmentation(detector_config(swin_s, {"num_queries": 100})).eval()
    return net, Mask2FormerImageProcessor(size={"shortest_edge": 384, "longest_edge": 1333}, size_divisor=32)
