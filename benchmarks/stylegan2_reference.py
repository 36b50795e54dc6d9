"""Check harness's StyleGAN2 generator against NVIDIA's StyleGAN2-ADA code on random weights.

NVIDIA's code is not part of this project (its licence does not let us ship it): fetch it into a
scratch folder outside the repository first, e.g.

    git clone https://github.com/NVlabs/stylegan2-ada-pytorch /tmp/sg2ref
    python benchmarks/stylegan2_reference.py --official /tmp/sg2ref --out /tmp/sg2check

Step 1 runs in a subprocess with the official folder on sys.path: it builds G, D, G_ema and an
augment pipe the way train.py / training_loop.py do, gives every parameter and buffer random
values (biases, noise strengths and w_avg included; the resampling filters kept), writes the
snapshot with their pickling, and saves G_ema's images for fixed z, c, psi and constant noise.
Step 2 runs here, where NVIDIA's packages cannot be imported: our safe loader reads the pickle,
our generator renders the same z, c and psi, and the script prints the max abs differences.
"""
from __future__ import annotations

import argparse
import copy
import pickle
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {  # name: resolution, channel multiplier (fmaps), mapping layers, classes, psi, architecture
    "64px_fmaps0.1": (64, 0.1, 2, 0, 0.7, "skip"),
    "256px_paper256_cond10": (256, 0.5, 8, 10, 0.5, "skip"),
    "32px_resnet_cond3": (32, 0.05, 2, 3, 0.8, "resnet"),
    "32px_orig": (32, 0.05, 2, 0, 1.0, "orig"),
}
BATCH = 4


def build_official(official: Path, out: Path) -> None:
    sys.path.insert(0, str(official))
    import dnnlib
    import torch
    from training.augment import AugmentPipe
    from training.networks import Discriminator, Generator

    for seed, (name, (res, fmaps, n_map, c_dim, psi, arch)) in enumerate(CONFIGS.items()):
        torch.manual_seed(seed)
        synthesis = dnnlib.EasyDict(channel_base=int(fmaps * 32768), channel_max=512, num_fp16_res=4, conv_clamp=256)
        if arch != "skip":
            synthesis.architecture = arch
        G_kwargs = dnnlib.EasyDict(z_dim=512, w_dim=512, mapping_kwargs=dnnlib.EasyDict(num_layers=n_map),
                                   synthesis_kwargs=synthesis)
        D_kwargs = dnnlib.EasyDict(block_kwargs=dnnlib.EasyDict(), mapping_kwargs=dnnlib.EasyDict(),
                                   epilogue_kwargs=dnnlib.EasyDict(), channel_base=int(fmaps * 32768),
                                   channel_max=512, num_fp16_res=4, conv_clamp=256)
        common = dict(c_dim=c_dim, img_resolution=res, img_channels=3)
        G = Generator(**G_kwargs, **common).train().requires_grad_(False)
        D = Discriminator(**D_kwargs, **common).train().requires_grad_(False)
        with torch.no_grad():
            for key, tensor in list(G.named_parameters()) + list(G.named_buffers()):
                if not key.endswith("resample_filter"):
                    small = key.endswith(("bias", "noise_strength", "w_avg"))
                    tensor.copy_(torch.randn_like(tensor) * (0.3 if small else 1.0))
        G_ema = copy.deepcopy(G).eval()
        augment = AugmentPipe(xflip=1, rotate90=1, xint=1, scale=1, rotate=1, aniso=1, xfrac=1, brightness=1,
                              contrast=1, lumaflip=1, hue=1, saturation=1).train().requires_grad_(False)
        snapshot = dict(training_set_kwargs=dict(class_name="training.dataset.ImageFolderDataset", resolution=res))
        for key, module in [("G", G), ("D", D), ("G_ema", G_ema), ("augment_pipe", augment)]:
            snapshot[key] = copy.deepcopy(module).eval().requires_grad_(False).cpu()  # as training_loop.py
        with open(out / f"{name}.pkl", "wb") as fh:
            pickle.dump(snapshot, fh)
        z = torch.randn([BATCH, G.z_dim], generator=torch.Generator().manual_seed(123))
        c = torch.zeros([BATCH, c_dim])
        if c_dim:
            c[torch.arange(BATCH), torch.arange(BATCH) % c_dim] = 1
        with torch.no_grad():
            ws = G_ema.mapping(z, c, truncation_psi=psi)
            img = G_ema.synthesis(ws, noise_mode="const", force_fp32=True)
        torch.save({"z": z, "c": c, "psi": psi, "ws": ws, "img": img}, out / f"{name}.ref.pt")
        channels = [getattr(G.synthesis, f"b{r}").conv1.weight.shape[0] for r in G.synthesis.block_resolutions]
        print(f"built {name}: {res}px, channels {channels}")


def compare(out: Path) -> list[dict]:
    import importlib.util

    import torch

    from harness.models.stylegan2 import load_generator

    assert importlib.util.find_spec("dnnlib") is None and importlib.util.find_spec("torch_utils") is None, \
        "NVIDIA's packages must not be importable where our loader runs"
    rows = []
    for name in CONFIGS:
        t0 = time.perf_counter()
        net = load_generator(out / f"{name}.pkl")
        load_s = time.perf_counter() - t0
        ref = torch.load(out / f"{name}.ref.pt")
        with torch.no_grad():
            ws = net.mapping(ref["z"], ref["c"] if net.c_dim else None, truncation_psi=ref["psi"])
            img = net.synthesis(ws, noise_mode="const")
        t0 = time.perf_counter()
        with torch.no_grad():
            net(ref["z"], ref["c"] if net.c_dim else None, truncation_psi=ref["psi"])
        decode_ms = 1000 * (time.perf_counter() - t0) / len(ref["z"])
        rows.append({"config": name, "resolution": net.img_resolution, "c_dim": net.c_dim, "psi": ref["psi"],
                     "max_abs_diff_ws": float((ws - ref["ws"]).abs().max()),
                     "max_abs_diff_img": float((img - ref["img"]).abs().max()),
                     "img_abs_max": float(ref["img"].abs().max()), "load_s": round(load_s, 2),
                     "decode_ms_per_image": round(decode_ms, 1),
                     "pickle_mb": round((out / f"{name}.pkl").stat().st_size / 2 ** 20, 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=Path, required=True, help="folder of NVlabs/stylegan2-ada-pytorch")
    parser.add_argument("--out", type=Path, default=Path("/tmp/stylegan2-reference"))
    parser.add_argument("--step", choices=["all", "build"], default="all", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.step == "build":
        build_official(args.official.resolve(), args.out)
        return
    subprocess.run([sys.executable, __file__, "--official", str(args.official), "--out", str(args.out),
                    "--step", "build"], check=True, cwd=args.official)
    rows = compare(args.out)
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    worst = max(r["max_abs_diff_img"] for r in rows)
    print(f"worst max abs difference over {len(rows)} configurations: {worst:.3g} (limit 1e-4)")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
