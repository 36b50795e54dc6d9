"""FID and KID with torchmetrics, on a chosen feature extractor, against a reference set.

Extractors (`metrics.fid_features`): `inception` (torchmetrics' default InceptionV3; needs
torch-fidelity and its weights in the local cache), `clip` (the evaluator CLIP's image
embeddings) or `tiny` (the tiny profile's CLIP image tower). The reference is a folder of images
or a saved `.npz` with `features` [N, d] (FID and KID) or `mu`/`sigma` (FID only). Reference
features are cached by a hash of the folder contents and the extractor.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from harness.errors import HarnessError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


class Identity(nn.Module):
    """Features fed directly: `images` are already [N, d] feature vectors."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x):
        return x


class ClipFeatures(nn.Module):
    """A CLIP image tower as a torchmetrics feature extractor: float images [N, 3, H, W] in [0, 1] -> [N, d].

    clip: a ClipBackbone, or a zero-argument function returning one (loaded on the first image, so a run
    whose features are all cached never loads the model)."""

    def __init__(self, clip, name: str):
        super().__init__()
        self._get = clip if callable(clip) and not hasattr(clip, "encode_image") else (lambda: clip)
        self.name = name
        self._num_features = None

    @property
    def clip(self):
        return self._get()

    @property
    def num_features(self) -> int:
        if self._num_features is None:
            clip = self.clip
            self._num_features = int(clip.encode_image(torch.rand(1, 3, clip.image_size, clip.image_size)).shape[-1])
        return self._num_features

    def forward(self, images):
        return self.clip.encode_image(images.float()).double()


def fid_from_features(fake: torch.Tensor, real: torch.Tensor) -> float:
    """FID between two feature sets [N, d] with torchmetrics; never negative (clamped at 0)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    fake, real = torch.as_tensor(fake).double(), torch.as_tensor(real).double()
    metric = FrechetInceptionDistance(feature=Identity(fake.shape[1]), normalize=True)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    return max(float(metric.compute()), 0.0)


def fid_from_stats(fake: torch.Tensor, mu: np.ndarray, sigma: np.ndarray) -> float:
    from torchmetrics.image.fid import _compute_fid

    fake = torch.as_tensor(fake).double()
    mu_f = fake.mean(0)
    sigma_f = torch.cov(fake.T)
    return max(float(_compute_fid(mu_f, sigma_f, torch.as_tensor(mu).double(), torch.as_tensor(sigma).double())), 0.0)


def kid_from_features(fake: torch.Tensor, real: torch.Tensor, subset_size: int, subsets: int,
                      seed: int = 0) -> tuple[float, float, int]:
    """KID mean and std over `subsets` subsets; the subset size is lowered to fit small N."""
    from torchmetrics.image.kid import KernelInceptionDistance

    fake, real = torch.as_tensor(fake).double(), torch.as_tensor(real).double()
    size = min(subset_size, len(fake), len(real))
    if size < 2:
        raise ValueError("KID needs at least 2 images on each side")
    torch.manual_seed(seed)
    import warnings

    with warnings.catch_warnings():  # "will save all extracted features": intended, the sets are small
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(feature=Identity(fake.shape[1]), subsets=subsets, subset_size=size,
                                         normalize=True)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    mean, std = metric.compute()
    return float(mean), float(std), size


def extractor_name(kind: str, evaluator_label: str | None = None) -> str:
    """The name a feature extractor records (and a built reference carries): features must match."""
    return {"tiny": "tiny-clip", "inception": "inception-v3-compat"}.get(kind) or f"clip:{evaluator_label}"


def reference_extractor(path: Path) -> str | None:
    """The extractor a built reference (.npz) was made with, if it says."""
    path = Path(path).expanduser()
    if path.is_file() and path.suffix == ".npz":
        try:
            with np.load(path) as data:
                return str(data["extractor"]) if "extractor" in data else None
        except Exception:  # a torn or foreign file: any reader error
            raise HarnessError(f"{path} is not a readable .npz statistics file; build it again with 'harness "
                               "reference build'") from None
    return None


def make_extractor(kind: str, evaluator_clip=None, label: str | None = None) -> nn.Module:
    """The feature extractor named by `metrics.fid_features`. evaluator_clip: a ClipBackbone, or a function
    returning one (then `label`, its name, must be given: the model loads only when an image needs it)."""
    if kind == "clip":
        if evaluator_clip is None:
            raise HarnessError("fid_features=clip needs the evaluator CLIP")
        return ClipFeatures(evaluator_clip, extractor_name("clip", label or evaluator_clip.name))
    if kind == "tiny":
        from harness.models.clip import load_clip
        from harness.models.cache import tiny_model_dir

        return ClipFeatures(lambda: load_clip(f"local-dir:{tiny_model_dir('clip')}", None, "cpu"),
                            extractor_name("tiny"))
    if kind == "inception":
        try:
            from torchmetrics.image.fid import NoTrainInceptionV3

            net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"])
        except Exception as exc:  # torch-fidelity missing, or its weights not in the cache
            raise HarnessError(f"fid_features=inception needs torch-fidelity and its InceptionV3 weights in the "
                               f"local cache ({type(exc).__name__}); install them, or set metrics.fid_features=clip "
                               "or tiny") from None

        class Inception(nn.Module):
            num_features = 2048
            name = extractor_name("inception")

            def __init__(self):
                super().__init__()
                self.net = net

            def forward(self, images):
                return self.net((images.clamp(0, 1) * 255).to(torch.uint8)).double()

        return Inception()
    raise HarnessError(f"unknown fid_features {kind!r}: use inception, clip or tiny")


@torch.inference_mode()
def extract(extractor: nn.Module, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
    return torch.cat([extractor(chunk).double().cpu() for chunk in images.split(batch)]) if len(images) else \
        torch.zeros((0, extractor.num_features), dtype=torch.float64)


def extract_list(extractor: nn.Module, images: list[torch.Tensor]) -> torch.Tensor:
    """Features of images that may differ in size: batched by size, returned in input order."""
    by_size: dict[tuple, list[int]] = {}
    for i, im in enumerate(images):
        by_size.setdefault(tuple(im.shape), []).append(i)
    out = torch.zeros((len(images), extractor.num_features), dtype=torch.float64)
    for idx in by_size.values():
        out[idx] = extract(extractor, torch.stack([images[i] for i in idx]))
    return out


def load_image(path: Path) -> torch.Tensor:
    """A real image of a reference set -> float32 [3, H, W] in [0, 1], whatever its mode: 16-bit and 32-bit
    grey (I;16, I, F) scaled from their full range, not clipped at 255; palette and alpha images as RGB.
    An unreadable file is one line naming it: a reference set is never built from some of its images."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
                grey = np.asarray(im, dtype=np.float64) / (65535.0 if im.mode.startswith("I;16") or
                                                           np.asarray(im).max() > 255 else 255.0)
                arr = np.repeat(grey[..., None], 3, axis=2)
            elif im.mode == "F":
                arr = np.repeat(np.asarray(im, dtype=np.float64)[..., None], 3, axis=2)
            else:
                arr = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise HarnessError(f"{path} is not a readable image ({' '.join(str(exc).split())[:80]}); remove or replace it, "
                           "then build the reference again (it is never built from part of the folder)") from None
    return torch.from_numpy(np.clip(arr, 0.0, 1.0).astype(np.float32)).permute(2, 0, 1).contiguous()


def folder_images(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def folder_hash(files: list[Path], root: Path) -> str:
    """sha256 over the folder's image files (names and contents): what a reference set is identified by."""
    digest = hashlib.sha256()
    for p in files:
        digest.update(str(p.relative_to(root)).encode())
        digest.update(hashlib.sha256(p.read_bytes()).digest())
    return digest.hexdigest()


def load_reference(spec: str, extractor: nn.Module, cache_dir: Path) -> dict:
    """{'features': [N, d]} or {'mu', 'sigma'} for a reference folder or .npz, cached by content hash."""
    from harness.rundir.files import atomic_write_bytes

    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".npz":
        reference_extractor(path)  # a torn or foreign file: one line
        data = np.load(path)
        built_with = str(data["extractor"]) if "extractor" in data else None
        name = getattr(extractor, "name", type(extractor).__name__)
        if built_with is not None and built_with != name:
            raise HarnessError(f"{path} holds features of {built_with}, but this run's FID/KID features are {name}; "
                               "build the reference again with the same metrics.fid_features (harness reference "
                               "build), or set metrics.fid_features to match")
        digest = file_sha256(path)
        if "features" in data:
            return {"features": torch.from_numpy(data["features"]).double(), "source": str(path), "sha256": digest}
        if "mu" in data and "sigma" in data:
            return {"mu": data["mu"], "sigma": data["sigma"], "n": int(data.get("n", 0)), "source": str(path),
                    "sha256": digest}
        raise HarnessError(f"{path}: a statistics file needs 'features' or 'mu' and 'sigma' arrays")
    if not path.is_dir():
        raise HarnessError(f"FID reference {path} is neither a folder of images nor a .npz statistics file")
    files = folder_images(path)
    if len(files) < 2:
        raise HarnessError(f"FID reference folder {path} holds {len(files)} image(s); it needs at least 2")
    name = getattr(extractor, "name", type(extractor).__name__)
    contents = folder_hash(files, path)
    key = hashlib.sha256(f"{contents}|{name}".encode()).hexdigest()[:20]
    cached = Path(cache_dir) / "fid-reference" / f"{key}.npz"
    if cached.is_file():
        return {"features": torch.from_numpy(np.load(cached)["features"]).double(), "source": str(path),
                "cache": str(cached), "sha256": contents}
    feats = extract_list(extractor, [load_image(p) for p in files])
    import io

    from harness.models.cache import writable_cache

    buf = io.BytesIO()
    np.savez(buf, features=feats.numpy())
    writable_cache(cached.parent)
    atomic_write_bytes(cached, buf.getvalue())
    return {"features": feats, "source": str(path), "cache": str(cached), "sha256": contents}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_reference(folder: Path, extractor: nn.Module, out: Path) -> dict:
    """Features of a folder of real images, written to `out` (.npz: features, extractor, n, source) for
    `metrics.reference`; any later run with the same features reads it instead of the images."""
    from harness.rundir.files import write_npz

    folder = Path(folder).expanduser()
    files = folder_images(folder) if folder.is_dir() else []
    if len(files) < 2:
        raise HarnessError(f"{folder}: a reference needs a folder of at least 2 images "
                           f"({', '.join(sorted(IMAGE_SUFFIXES))}), found {len(files)}")
    feats = extract_list(extractor, [load_image(p) for p in files])
    name = getattr(extractor, "name", type(extractor).__name__)
    write_npz(Path(out), features=feats.numpy(), extractor=np.array(name), n=np.int64(len(files)),
              source=np.array(str(folder)))
    return {"n": len(files), "feature_dim": int(feats.shape[1]), "extractor": name, "path": str(out)}


UNRELIABLE_FID = ("N <= feature dimension: FID is dominated by sample size here; compare FIDs only at equal N, "
                  "and read KID, which is unbiased at small N")
UNRELIABLE_REFERENCE = ("the reference set has no more images than feature dimensions, so its covariance is "
                        "singular: FID against it is dominated by sample size; read KID, or use a larger reference")


def fid_reliability(n: int, d: int, n_reference: int | None = None) -> dict:
    """FID's covariances need more images than feature dimensions (a covariance of N points has rank at most
    N - 1, so N > d): mark the FID when either side does not have them."""
    out = {"feature_dim": int(d), "reliable": bool(n > d and (n_reference is None or n_reference > d))}
    notes = [UNRELIABLE_FID] if n <= d else []
    if n_reference is not None and n_reference <= d:
        notes.append(UNRELIABLE_REFERENCE)
        out["reference_reliable"] = False
    if notes:
        out["note"] = "; ".join(notes)
    return out


def section(ctx) -> dict:
    """FID/KID of each method's selected images and of its final populations against the reference."""
    from harness.rundir.archive import final_populations

    cfg = ctx.cfg
    ref = ctx.reference or cfg.reference
    if not ref:
        return {"skipped": "no reference set configured: set metrics.reference to a folder of real images or a "
                           ".npz statistics file (suite.yaml or --reference)"}
    extractor = make_extractor(cfg.fid_features, lambda: ctx.evaluator.model, ctx.evaluator.label)
    reference_data = load_reference(ref, extractor, ctx.cache_dir)
    out = {"reference": reference_data["source"], "reference_sha256": reference_data.get("sha256"),
           "features": getattr(extractor, "name", cfg.fid_features), "methods": {}}
    finals = final_populations(ctx.archive)
    rundir = ctx.rundir
    from harness.rundir import JobKey
    from harness.rundir.files import load_pngs

    kind = f"features|{getattr(extractor, 'name', cfg.fid_features)}"
    for method, group in ctx.jobs.groupby("method", sort=False):
        sets = {"selected": [p for p in ctx.image_paths(group) if p.is_file()],
                "population": [path for (m, cid, seed), pop in finals.items() if m == method
                               for i in range(len(pop))
                               if (path := rundir.population_png(JobKey(cid, m, seed), i)).is_file()]}
        if ctx.pick is not None:  # final populations do not depend on the pick policy: computed once
            del sets["population"]
        entry = {}
        for which, files in sets.items():
            feats = ctx.cached(kind, files, lambda paths: list(extract_list(extractor, load_pngs(paths)).numpy()))
            feats = torch.from_numpy(np.stack(feats)) if feats else torch.zeros(0, 0, dtype=torch.float64)
            entry[which] = _fid_entry(feats, reference_data, cfg)
        out["methods"][str(method)] = entry
    return out


def _fid_entry(feats: torch.Tensor, ref: dict, cfg) -> dict:
    from harness.metrics.stats import value_entry

    n, d = feats.shape[0], (feats.shape[1] if feats.ndim == 2 else 0)
    if n < 2:
        return {"fid": value_entry(None, n, None, False, note="FID needs at least 2 images"),
                "kid": value_entry(None, n, None, False, note="KID needs at least 2 images")}
    if "features" in ref:
        n_ref = len(ref["features"])
        fid_value = fid_from_features(feats, ref["features"])
        kid_mean, kid_std, size = kid_from_features(feats, ref["features"], cfg.kid_subset_size, cfg.kid_subsets)
        return {"fid": value_entry(fid_value, n, None, False, n_reference=n_ref, **fid_reliability(n, d, n_ref)),
                "kid": value_entry(kid_mean, n, None, False, std=kid_std, subset_size=size, subsets=cfg.kid_subsets,
                                   n_reference=n_ref)}
    return {"fid": value_entry(fid_from_stats(feats, ref["mu"], ref["sigma"]), n, None, False,
                               n_reference=ref.get("n"), **fid_reliability(n, d, ref.get("n") or None)),
            "kid": value_entry(None, n, None, False, note="the reference file holds only mu/sigma: KID skipped")}
