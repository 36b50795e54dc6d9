"""StyleGAN2-ADA: our generator, written as a network pickle of the official structure, read back by
the safe loader (identical images), refusal of anything else, and the generator interface."""
from __future__ import annotations

import collections
import pickle

import numpy as np
import pytest
import torch

from harness.errors import HarnessError
from harness.generators import StyleGAN2Generator
from harness.models.stylegan2 import Generator, UnsafePickleError, load_generator, write_network_pickle
from harness.models.stylegan2.safe_pickle import SafeUnpickler, read_network_pickle
from helpers import harness_cli

SMALL = {"z_dim": 16, "c_dim": 3, "w_dim": 16, "img_resolution": 16, "img_channels": 3,
         "mapping_kwargs": {"num_layers": 2},
         "synthesis_kwargs": {"channel_base": 128, "channel_max": 16, "num_fp16_res": 2, "conv_clamp": 256}}


def small_net(seed=0, **synthesis) -> Generator:
    torch.manual_seed(seed)
    cfg = {**SMALL, "synthesis_kwargs": {**SMALL["synthesis_kwargs"], **synthesis}}
    net = Generator(**cfg).eval()
    with torch.no_grad():  # random biases, noise strengths and w_avg, so each of them matters
        for name, p in list(net.named_parameters()) + list(net.named_buffers()):
            if not name.endswith("resample_filter"):
                p.copy_(torch.randn_like(p) * (0.3 if name.endswith(("bias", "noise_strength", "w_avg")) else 1))
    return net


def images(net, psi=0.7, noise_mode="const"):
    gen = torch.Generator().manual_seed(5)
    z = torch.randn(3, net.z_dim, generator=gen)
    c = torch.eye(net.c_dim)[[0, 1, 2]] if net.c_dim else None
    with torch.no_grad():
        return net(z, c, truncation_psi=psi, noise_mode=noise_mode)


@pytest.mark.parametrize("architecture", ["skip", "orig", "resnet"])
def test_pickle_round_trip_gives_identical_images(tmp_path, architecture):
    net = small_net(architecture=architecture)
    path = tmp_path / "network-snapshot-000000.pkl"
    write_network_pickle(path, net)
    loaded = load_generator(path)
    assert loaded.init_kwargs == net.init_kwargs
    for psi in (1.0, 0.5):
        assert torch.equal(images(loaded, psi), images(net, psi))
    assert not torch.equal(images(net, 0.5), images(net, 1.0))
    assert not torch.equal(images(net, noise_mode="const"), images(net, noise_mode="none"))


@pytest.mark.parametrize("protocol", [2, 3, 5])
def test_older_and_newer_pickle_protocols_load(tmp_path, protocol):
    """NVIDIA's released pickles were written by Python 3.7 (protocol 3); protocol 2 spells bytes and sets
    as calls (_codecs.encode, __builtin__.set)."""
    net = small_net()
    write_network_pickle(tmp_path / "net.pkl", net, protocol=protocol)
    assert torch.equal(images(load_generator(tmp_path / "net.pkl")), images(net))


def test_written_pickle_has_the_official_structure(tmp_path):
    path = tmp_path / "net.pkl"
    write_network_pickle(path, small_net())
    names = set()

    class Recorder(SafeUnpickler):
        def find_class(self, module, name):
            names.add(f"{module}.{name}")
            return super().find_class(module, name)

    with open(path, "rb") as fh:
        Recorder(fh).load()
    assert names == {"torch_utils.persistence._reconstruct_persistent_obj", "dnnlib.util.EasyDict",
                     "collections.OrderedDict", "torch._utils._rebuild_parameter", "torch._utils._rebuild_tensor_v2",
                     "torch.storage._load_from_bytes"}
    record = read_network_pickle(path)["G_ema"]
    assert record.class_name == "Generator" and record.init_kwargs["synthesis_kwargs"]["channel_base"] == 128
    kinds = {r.class_name for r in record.children().values()}
    assert kinds == {"MappingNetwork", "SynthesisNetwork"}
    block = record.children()["synthesis"].children()["b8"]
    assert {r.class_name for r in block.children().values()} == {"SynthesisLayer", "ToRGBLayer"}
    assert set(record.tensors()) == set(small_net().state_dict())


class WritesFile:
    """Unpickling this creates `path` (what a malicious network pickle could do)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def _malicious_pickles(target):
    yield "top level", pickle.dumps(WritesFile(target))
    yield "inside G_ema", pickle.dumps({"G_ema": {"state": WritesFile(target)}})
    # Hidden where tensors go: the bytes handed to torch.storage._load_from_bytes.
    payload = pickle.dumps(WritesFile(target))
    storage = type("Storage", (), {"__reduce__": lambda self: (torch.storage._load_from_bytes, (payload,))})
    yield "inside a tensor record", pickle.dumps({"G_ema": storage()})


@pytest.mark.parametrize("case", ["top level", "inside G_ema", "inside a tensor record"])
def test_malicious_pickle_is_refused_without_running_it(tmp_path, case):
    target = tmp_path / "pwned"
    data = dict(_malicious_pickles(target))[case]
    try:  # the payload is live: the usual way of loading runs it
        pickle.loads(data)
    except RuntimeError:  # torch.load ran it as the legacy header, then found no magic number
        pass
    assert target.exists()
    target.unlink()
    path = tmp_path / "evil.pkl"
    path.write_bytes(data)
    with pytest.raises(UnsafePickleError, match="refusing to load|not a readable network pickle"):
        load_generator(path)
    assert not target.exists()


@pytest.mark.slow
def test_malicious_pickle_through_the_cli_is_one_line_exit_2(tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "network-snapshot-000100.pkl"
    path.write_bytes(pickle.dumps({"G_ema": WritesFile(target)}))
    proc = harness_cli("search", "a cat", "--models", "tiny", "--out", tmp_path / "out",
                       "--set", f"models.generator=stylegan2_ada:{path}")
    assert proc.returncode == 2 and "refusing to load" in proc.stderr and "io.open" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not target.exists() and not (tmp_path / "out").exists()


def test_loading_is_strict_and_names_the_keys(tmp_path):
    net = small_net()
    net.mapping.fc1._parameters["bias"] = None
    net.synthesis.b4.register_buffer("extra", torch.zeros(2))
    path = tmp_path / "net.pkl"
    write_network_pickle(path, net)
    with pytest.raises(UnsafePickleError) as err:
        load_generator(path)
    assert "missing keys mapping.fc1.bias" in str(err.value) and "unexpected keys synthesis.b4.extra" in str(err.value)


def test_other_files_are_refused_with_a_reason(tmp_path):
    cases = {"garbage.pkl": b"not a pickle at all", "list.pkl": pickle.dumps([1, 2]),
             "no_g_ema.pkl": pickle.dumps({"G": collections.OrderedDict()})}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(UnsafePickleError, match="not a readable network pickle"):
        load_generator(tmp_path / "garbage.pkl")
    with pytest.raises(UnsafePickleError, match="holds a list"):
        load_generator(tmp_path / "list.pkl")
    with pytest.raises(UnsafePickleError, match="has no G_ema"):
        load_generator(tmp_path / "no_g_ema.pkl")
    net = small_net()
    net.init_kwargs["synthesis_kwargs"]["magnitude_ema_beta"] = 0.999  # a setting we do not implement
    write_network_pickle(tmp_path / "unknown.pkl", net)
    with pytest.raises(UnsafePickleError, match="magnitude_ema_beta"):
        load_generator(tmp_path / "unknown.pkl")


def _record_pickle(path, **meta):
    """A pickle whose G_ema is a persistent-object record with `meta` over a valid header."""
    from harness.models.stylegan2.safe_pickle import PERSISTENCE, _Global, _NetworkPickler

    class Record:
        def __reduce__(self):
            return _Global(*PERSISTENCE), ({"type": "class", "version": 6, "module_src": "", "class_name": "Generator",
                                            "state": {}, **meta},)

    with open(path, "wb") as fh:
        _NetworkPickler(fh, protocol=4).dump({"G_ema": Record()})


@pytest.mark.parametrize("meta, message", [
    ({"module_src": "class SynthesisInput(torch.nn.Module): ..."}, "a StyleGAN3 network, not a StyleGAN2-ADA"),
    ({"class_name": "Discriminator"}, "G_ema is Discriminator, not a StyleGAN2-ADA Generator"),
    ({"version": 5}, "persistent-object version 5 is not the supported 6"),
    ({"state": {"_init_args": (512,)}}, "built with positional arguments"),
])
def test_other_networks_are_refused_with_a_reason(tmp_path, meta, message):
    _record_pickle(tmp_path / "net.pkl", **meta)
    with pytest.raises(UnsafePickleError, match=message):
        load_generator(tmp_path / "net.pkl")


def test_four_channel_network_is_refused():
    torch.manual_seed(0)
    with pytest.raises(HarnessError, match="4-channel images; the critics need 1 or 3"):
        StyleGAN2Generator(Generator(**{**SMALL, "img_channels": 4}))


# --- the generator interface ---------------------------------------------------------------------

def wrap(net, **kw) -> StyleGAN2Generator:
    return StyleGAN2Generator(net, batch_size=2, **kw)


def test_z_and_w_spaces_start_from_the_same_images():
    net = small_net()
    gz, gw = wrap(net, truncation=0.7, class_label=1), wrap(net, space="w", truncation=0.7, class_label=1)
    assert gz.latent_dim == 16 and gw.latent_dim == 16
    xz, xw = gz.initial_latents(4, seed=0), gw.initial_latents(4, seed=0)
    torch.testing.assert_close(gz.decode(xz), gw.decode(xw), atol=1e-5, rtol=0)
    lo, hi = gw.bounds()
    assert (xw > lo).all() and (xw < hi).all()


def test_class_search_fixed_label_and_bad_labels():
    net = small_net()
    searched = wrap(net)
    assert searched.latent_dim == 16 + 3
    x = searched.initial_latents(2, seed=0)
    y = x.copy()
    y[:, 16:] = [10.0, -10.0, -10.0]  # nearly one-hot class 0
    fixed = wrap(net, class_label=0)
    torch.testing.assert_close(searched.decode(y), fixed.decode(x[:, :16]), atol=1e-3, rtol=0)
    with pytest.raises(HarnessError, match="outside the network's classes 0..2"):
        wrap(net, class_label=3)
    torch.manual_seed(0)
    unconditional = Generator(**{**SMALL, "c_dim": 0})
    with pytest.raises(HarnessError, match="unconditional"):
        wrap(unconditional, class_label=0)


def test_random_noise_is_a_function_of_the_genome():
    net = small_net()
    const, rand = wrap(net, class_label=0), wrap(net, class_label=0, noise_mode="random")
    x = rand.initial_latents(4, seed=2)
    a = rand.decode(x)
    assert torch.equal(a, rand.decode(x))
    torch.testing.assert_close(torch.cat([rand.decode(x[2:]), rand.decode(x[:2])]), torch.cat([a[2:], a[:2]]),
                               atol=1e-5, rtol=0)
    assert not torch.allclose(a, const.decode(x), atol=1e-3)


def test_biggan_rejects_stylegan2_settings(tiny_models):
    from harness.generators import make_generator
    from helpers import small_config

    with pytest.raises(HarnessError, match="generator.space=w applies to StyleGAN2-ADA"):
        make_generator(tiny_models, small_config("generator.space=w").generator)


def test_all_four_methods_run_on_the_tiny_stylegan2(tiny_models, tiny_stylegan2):
    from dataclasses import replace

    from harness.config.methods import METHOD_ORDER, load_method
    from harness.search import run_search
    from harness.search.system import build_system
    from helpers import small_config

    for space in ("z", "w"):
        cfg = small_config("models.generator=stylegan2_ada", f"generator.space={space}", "generator.truncation=0.7")
        models = replace(tiny_models, generator=tiny_stylegan2, generator_kind="stylegan2_ada")
        system = build_system(cfg, models=models)
        assert isinstance(system.generator, StyleGAN2Generator)
        for method in [m for m in METHOD_ORDER if not m.startswith("evo_trajectory")]:  # those need a sampler
            result = run_search("a cat is lay on the table.", load_method(method), system.scorer, system.generator,
                                cfg.search, 0)
            assert result.X.shape[1] == 32 and np.isfinite(result.X).all()
            assert result.selected_image.shape == (3, 32, 32)


@pytest.mark.parametrize("sets, message", [
    (["models.generator=stylegan2_ada:/nonexistent/network-snapshot-000000.pkl"], "does not exist"),
    (["models.generator=stylegan2_ada", "--models", "default"], "needs a network pickle"),
    (["generator.space=v"], "must be z, w or wplus"),
    (["models.generator=stylegan2_ada", "generator.noise_mode=fresh"], "must be const, random or none"),
])
def test_cli_bad_stylegan2_input_is_one_line_exit_2(tmp_path, sets, message):
    profile = sets[sets.index("--models") + 1] if "--models" in sets else "tiny"  # --models and --set never both
    args = [a for s in sets if s not in ("--models", profile) for a in ("--set", s)]
    proc = harness_cli("search", "a cat", "--models", profile, "--out", tmp_path / "out", *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()  # one line (missing weights: then one indented line per model)
    assert (len(lines) == 1 or "missing" in lines[0] and all(x.startswith("  ") for x in lines[1:])) \
        and not (tmp_path / "out").exists()


def test_grayscale_network_gives_rgb_images():
    torch.manual_seed(0)
    net = Generator(**{**SMALL, "c_dim": 0, "img_channels": 1, "mapping_kwargs": {"num_layers": 1, "layer_features": 8}})
    gen = wrap(net)
    out = gen.decode(gen.initial_latents(2, seed=0))
    assert out.shape == (2, 3, 16, 16) and torch.equal(out[:, 0], out[:, 2])
