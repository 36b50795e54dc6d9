"""Model loading: the tiny profile's files are in the real formats; BigGAN loads strictly and from
a hub-format folder; missing weights are one line, fast, before any generation."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import torch

from harness.errors import HarnessError, WeightsMissingError
import harness.tiny.builders as tiny
from harness.models import biggan, cache


def test_tiny_files_load_with_the_libraries_own_functions(tiny_cache):
    import open_clip
    from flair.data import Sentence
    from flair.embeddings import TransformerWordEmbeddings
    from pytorch_pretrained_biggan import BigGAN
    from transformers import BertModel, BertTokenizer

    clip_dir = cache.tiny_model_dir("clip")
    model = open_clip.create_model(f"local-dir:{clip_dir}")
    state = torch.load(clip_dir / "open_clip_pytorch_model.bin", weights_only=True)
    assert torch.equal(model.state_dict()["visual.conv1.weight"], state["visual.conv1.weight"])

    vgg_dir = cache.tiny_model_dir("classifier")
    cfg = json.loads((vgg_dir / "config.json").read_text())
    vgg = tiny.make_vgg(cfg)
    assert type(vgg).__module__ == "torchvision.models.vgg"
    vgg.load_state_dict(torch.load(vgg_dir / "vgg_tiny.pth", weights_only=True), strict=True)
    assert vgg(torch.rand(1, 3, 32, 32)).shape == (1, 1000)

    words_dir = cache.tiny_model_dir("words")
    assert BertModel.from_pretrained(words_dir).config.num_hidden_layers == 1
    assert BertTokenizer.from_pretrained(words_dir).tokenize("lay")
    emb = TransformerWordEmbeddings(str(words_dir), layers="-1", subtoken_pooling="mean")
    sentence = Sentence("a cat is lay on the table .")
    emb.embed(sentence)
    assert sentence[1].embedding.shape == (32,)

    gen_dir = cache.tiny_model_dir("generator")
    net = BigGAN.from_pretrained(str(gen_dir))
    ours = biggan.load_strict(gen_dir)
    for key, value in ours.state_dict().items():
        assert torch.equal(net.state_dict()[key], value)


def test_biggan_refuses_missing_unexpected_and_misshapen_keys(tmp_path):
    src = cache.tiny_model_dir("generator")
    state = torch.load(src / "pytorch_model.bin", weights_only=True)
    first = next(iter(state))
    for name, edit in [("missing keys", lambda s: s.pop(first)),
                       ("unexpected keys", lambda s: s.__setitem__("extra.weight", torch.zeros(1))),
                       ("wrong shape", lambda s: s.__setitem__(first, torch.zeros(1)))]:
        folder = tmp_path / name.replace(" ", "_")
        folder.mkdir()
        (folder / "config.json").write_text((src / "config.json").read_text())
        broken = dict(state)
        edit(broken)
        torch.save(broken, folder / "pytorch_model.bin")
        with pytest.raises(HarnessError, match=name):
            biggan.load_strict(folder)


def test_biggan_from_a_hub_repository_in_the_cache(tmp_path, monkeypatch):
    """hf:ORG/REPO resolves through huggingface_hub's cache layout (config.json + pytorch_model.bin)."""
    src = cache.tiny_model_dir("generator")
    hub = tmp_path / "hub"
    snap = hub / "models--someone--BigGAN-tiny" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (hub / "models--someone--BigGAN-tiny" / "refs").mkdir()
    (hub / "models--someone--BigGAN-tiny" / "refs" / "main").write_text("abc123")
    for name in ("config.json", "pytorch_model.bin"):
        (snap / name).write_bytes((src / name).read_bytes())
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(hub))
    folder = biggan.resolve("hf:someone/BigGAN-tiny", offline=True)
    assert biggan.load_strict(folder).config.output_dim == 32
    with pytest.raises(WeightsMissingError, match="not in the local cache"):
        biggan.resolve("hf:someone/absent", offline=True)


def test_random_biggan_is_finite_after_init():
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig

    torch.manual_seed(0)
    cfg = BigGANConfig(**{**tiny.TINY_BIGGAN_CFG, "layers": [tuple(x) for x in tiny.TINY_BIGGAN_CFG["layers"]]})
    net = biggan.init_random(BigGAN(cfg)).eval()
    with torch.no_grad():
        out = net(torch.randn(4, 16).clamp(-2, 2), torch.softmax(torch.randn(4, 1000), 1), 1.0)
    assert torch.isfinite(out).all() and out.abs().max() <= 1


def test_deep_configs_follow_the_128_table():
    from pytorch_pretrained_biggan import BigGANConfig

    assert [tuple(x) for x in biggan.deep_config(128).layers] == [tuple(x) for x in BigGANConfig().layers]
    assert sum(up for up, _, _ in biggan.deep_config(256).layers) == 6
    assert sum(up for up, _, _ in biggan.deep_config(512).layers) == 7


def test_missing_weights_are_one_line_fast_and_before_any_generation(tmp_path):
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tmp_path / "hf" / "hub"),
           "TORCH_HOME": str(tmp_path / "torch"), "HF_HUB_OFFLINE": "0",
           "PYTORCH_PRETRAINED_BIGGAN_CACHE": str(tmp_path / "biggan")}
    out = tmp_path / "out"
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "harness", "search", "a cat", "--models", "default",
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=120)
    elapsed = time.time() - start
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()  # one line naming every missing model, then one indented line each
    assert "model(s) missing" in lines[0] and "--models tiny" in lines[0] and "harness models fetch" in lines[0]
    assert len(lines) == 1 + int(lines[0].split("error: ")[1].split()[0]) and all(x.startswith("  ") for x in lines[1:])
    assert "weights" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert elapsed < 30


def test_missing_biggan_weights_name_every_source_and_how_to_place_them(tmp_path, monkeypatch):
    import pytorch_pretrained_biggan.file_utils as fu

    monkeypatch.setattr(fu, "PYTORCH_PRETRAINED_BIGGAN_CACHE", str(tmp_path / "empty"))
    for name, mirror in (("biggan-deep-128", "osanseviero/BigGAN-deep-128"), ("biggan-deep-512", None)):
        with pytest.raises(WeightsMissingError) as err:
            biggan.resolve(name, offline=True)
        text = str(err.value)
        assert "the package's archive https://" in text and f"{name}-pytorch_model.bin" in text
        assert "config.json + pytorch_model.bin" in text and "--set models.generator=DIR" in text
        assert (mirror in text) if mirror else "hub mirror" not in text
