"""Read StyleGAN2-ADA network pickles without running the code inside them.

A `network-snapshot-*.pkl` is a pickled dict whose networks (`G`, `D`, `G_ema`, `augment_pipe`)
are "persistent objects" of NVIDIA's `torch_utils.persistence`: each is a call to
`torch_utils.persistence._reconstruct_persistent_obj(meta)` where `meta` holds the source code of
the network's module, the class name and the object state (its `_init_kwargs`, `_parameters`,
`_buffers` and child `_modules`). The usual loader imports NVIDIA's packages and `exec`s that
source. `SafeUnpickler` instead resolves only the names listed in `ALLOWED`, each to a function of
ours that builds plain data (a `Record` for a persistent object, tensors via `torch.load` with
`weights_only=True`); any other name refuses the file before anything is called.

`load_generator(path)` builds `harness.models.stylegan2.network.Generator` from `G_ema`'s init
kwargs and loads its tensors strictly. `write_network_pickle` writes our own networks in the
same structure (used for the tiny profile and the tests).
"""
from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from harness.errors import HarnessError
from harness.models.checkpoint import state_mismatch

PERSISTENCE = ("torch_utils.persistence", "_reconstruct_persistent_obj")
EASYDICT = ("dnnlib.util", "EasyDict")
PERSISTENCE_VERSION = 6


class UnsafePickleError(HarnessError):
    """The file is not a StyleGAN2-ADA network pickle this loader can read without running code."""


@dataclass
class Record:
    """A persistent object from the pickle, as data: class name, state dict, and its module's source (never run)."""

    class_name: str
    state: dict
    module_src: str = field(repr=False, default="")

    @property
    def init_kwargs(self) -> dict:
        return _plain(self.state.get("_init_kwargs", {}))

    @property
    def init_args(self) -> tuple:
        return tuple(self.state.get("_init_args", ()))

    def children(self) -> dict[str, "Record"]:
        return {k: v for k, v in (self.state.get("_modules") or {}).items() if v is not None}

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Every parameter and persistent buffer, by dotted name, like `nn.Module.state_dict()`."""
        out: dict[str, torch.Tensor] = {}
        skip = set(self.state.get("_non_persistent_buffers_set") or ())
        for group in ("_parameters", "_buffers"):
            for name, value in (self.state.get(group) or {}).items():
                if value is not None and name not in skip:
                    if not isinstance(value, torch.Tensor):
                        raise UnsafePickleError(f"{prefix}{name} is a {type(value).__name__}, not a tensor")
                    out[prefix + name] = value
        for name, child in self.children().items():
            if not isinstance(child, Record):
                raise UnsafePickleError(f"{prefix}{name} is a {type(child).__name__}, not a persistent network record")
            out.update(child.tensors(f"{prefix}{name}."))
        return out


class _EasyDict(dict):
    """Stands in for dnnlib.util.EasyDict: a dict and nothing more."""


def _plain(value):
    """EasyDicts and OrderedDicts -> dicts, recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _reconstruct_persistent_obj(meta) -> Record:
    if not isinstance(meta, dict) or meta.get("type") != "class" or not isinstance(meta.get("class_name"), str):
        raise UnsafePickleError("a persistent-object record is malformed")
    if meta.get("version") != PERSISTENCE_VERSION:
        raise UnsafePickleError(f"persistent-object version {meta.get('version')!r} is not the supported "
                                f"{PERSISTENCE_VERSION} (StyleGAN2-ADA PyTorch)")
    state = meta.get("state") or {}
    if not isinstance(state, dict):
        raise UnsafePickleError(f"the state of {meta['class_name']} is not a dict")
    return Record(meta["class_name"], dict(state), str(meta.get("module_src", "")))


def _load_storage(data: bytes):
    if not isinstance(data, (bytes, bytearray)):
        raise UnsafePickleError("a tensor storage record is not bytes")
    return torch.load(io.BytesIO(data), weights_only=True)


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
        raise UnsafePickleError(f"a tensor record holds a {type(storage).__name__}, not a storage")
    return torch._utils._rebuild_tensor_v2(storage, int(storage_offset), tuple(size), tuple(stride), False,
                                           collections.OrderedDict())


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    if not isinstance(data, torch.Tensor):
        raise UnsafePickleError("a parameter record holds no tensor")
    return data


NUMERIC_KINDS = "biuf"


def _numpy_dtype(code, align=False, copy=False):
    dtype = np.dtype(str(code))
    if dtype.kind not in NUMERIC_KINDS:
        raise UnsafePickleError(f"numpy dtype {code!r} is not numeric")
    return dtype


def _numpy_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or dtype.kind not in NUMERIC_KINDS or not isinstance(data, bytes):
        raise UnsafePickleError("a numpy scalar record is not a plain number")
    return np.frombuffer(data, dtype=dtype)[0]


def _latin1_bytes(text, encoding="latin1"):
    """How protocol-2 pickles spell bytes: _codecs.encode(str, 'latin1')."""
    if not isinstance(text, str) or encoding != "latin1":
        raise UnsafePickleError("a bytes record is malformed")
    return text.encode("latin1")


ALLOWED = {
    PERSISTENCE: _reconstruct_persistent_obj,
    EASYDICT: _EasyDict,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "set"): set,  # protocol 2
    ("_codecs", "encode"): _latin1_bytes,  # protocol 2
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "dtype"): _numpy_dtype,
}


class SafeUnpickler(pickle.Unpickler):
    """Resolves only the names in ALLOWED; anything else refuses the file before it is called."""

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            hint = (" (a TensorFlow StyleGAN pickle: convert it with NVIDIA's legacy.py first)"
                    if module.startswith("dnnlib.tflib") else "")
            raise UnsafePickleError(f"refusing to load: the pickle calls {module}.{name}, which is not part of a "
                                    f"StyleGAN2-ADA network pickle{hint}") from None

    def persistent_load(self, pid):
        raise UnsafePickleError("refusing to load: the pickle uses persistent ids (not a network pickle)")


def read_network_pickle(path) -> dict:
    """The top-level dict of a network pickle, with networks as Records. Never runs code from the file."""
    path = Path(path)
    with open(path, "rb") as fh:
        try:
            data = SafeUnpickler(fh).load()
        except UnsafePickleError as err:
            raise UnsafePickleError(f"{path}: {err}") from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
                RuntimeError) as err:
            raise UnsafePickleError(f"{path} is not a readable network pickle ({type(err).__name__}: {err})") from None
    if not isinstance(data, dict):
        raise UnsafePickleError(f"{path} holds a {type(data).__name__}, not a dict of networks")
    return data


def generator_record(data: dict, path="network pickle", key: str = "G_ema") -> Record:
    record = data.get(key)
    if not isinstance(record, Record):
        raise UnsafePickleError(f"{path} has no {key} network (keys: {', '.join(map(str, data))})")
    stylegan3 = "class SynthesisInput" in record.module_src
    if record.class_name != "Generator" or stylegan3:
        what = "a StyleGAN3 network" if stylegan3 else record.class_name
        raise UnsafePickleError(f"{path}: {key} is {what}, not a StyleGAN2-ADA Generator")
    return record


def build_generator(record: Record, path="network pickle"):
    """Our Generator from a G_ema record: init kwargs, then a strict load of every tensor."""
    from harness.models.stylegan2.network import Generator

    if record.init_args:
        raise UnsafePickleError(f"{path}: G_ema was built with positional arguments; expected keyword arguments")
    kwargs = record.init_kwargs
    try:
        net = Generator(**kwargs)
    except (TypeError, ValueError) as err:
        raise UnsafePickleError(f"{path}: G_ema's settings are not supported ({err})") from None
    tensors = record.tensors()
    problems = state_mismatch(net, tensors)
    if problems:
        raise UnsafePickleError(f"{path}: G_ema's tensors do not match a StyleGAN2 generator: {problems}")
    net.load_state_dict(tensors, strict=True)
    return net.eval().requires_grad_(False)


def load_generator(path) -> torch.nn.Module:
    """Our StyleGAN2 generator with the weights of `G_ema` in the network pickle at `path`."""
    data = read_network_pickle(path)
    return build_generator(generator_record(data, path), path)


# --- writing -------------------------------------------------------------------------------------

MODULE_SRC = "# Written by harness (harness.models.stylegan2.safe_pickle); holds no code.\n"


class _Global:
    """A reference to `module.name` to be written into a pickle (never called here)."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args, **kwargs):  # pickle requires reduce functions to be callable
        raise TypeError(f"{self.module}.{self.name} is only a name to write into a pickle")


class _NetworkPickler(pickle._Pickler):
    """Writes `_Global` markers as module.name references (the names need not be importable here)."""

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            if self.proto >= 4:
                self.save(obj.module)
                self.save(obj.name)
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            return
        super().save(obj, save_persistent_id)


class _Persistent:
    """A module written as a persistent-object record, like torch_utils.persistence does."""

    def __init__(self, module: torch.nn.Module):
        self.module = module

    def __reduce__(self):
        m = self.module
        state = {
            "training": False,
            "_parameters": collections.OrderedDict((k, _cpu(v, parameter=True)) for k, v in m._parameters.items()),
            "_buffers": collections.OrderedDict((k, _cpu(v)) for k, v in m._buffers.items()),
            "_non_persistent_buffers_set": set(m._non_persistent_buffers_set),
            "_modules": collections.OrderedDict((k, _Persistent(v)) for k, v in m._modules.items()),
            "_init_args": (),
            "_init_kwargs": _Easy(getattr(m, "init_kwargs", {})),
        }
        meta = {"type": "class", "version": PERSISTENCE_VERSION, "module_src": MODULE_SRC,
                "class_name": type(m).__name__, "state": state}
        return _Global(*PERSISTENCE), (meta,)


def _cpu(tensor, parameter: bool = False):
    if tensor is None:
        return None
    tensor = tensor.detach().cpu()
    return torch.nn.Parameter(tensor, requires_grad=False) if parameter else tensor


class _Easy:
    def __init__(self, value: dict):
        self.value = value

    def __reduce__(self):
        items = {k: _Easy(v) if isinstance(v, dict) else v for k, v in self.value.items()}
        return _Global(*EASYDICT), (), None, None, iter(items.items())


def write_network_pickle(path, G_ema: torch.nn.Module, extra: dict | None = None, protocol: int = 4) -> None:
    """Write {'G_ema': G_ema, **extra} in the structure of a StyleGAN2-ADA snapshot (pickle protocol 2 to 5)."""
    data = {"training_set_kwargs": None, **(extra or {}), "G_ema": _Persistent(G_ema)}
    buf = io.BytesIO()
    _NetworkPickler(buf, protocol=protocol).dump(data)
    Path(path).write_bytes(buf.getvalue())
