"""Strict checkpoint loading, shared by the generator loaders: every key mismatch named in one line."""
from __future__ import annotations

import torch


def state_mismatch(module: torch.nn.Module, state: dict[str, torch.Tensor], limit: int = 6) -> str:
    """'' when `state` has exactly `module`'s state-dict keys and shapes; else what differs, e.g.
    'missing keys a, b; unexpected keys c; wrong shape d (2,) vs (3,)' (at most `limit` names each)."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
             for k in sorted(set(expected) & set(state)) if tuple(expected[k].shape) != tuple(state[k].shape)]
    parts = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shape", wrong)):
        if keys:
            more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
            parts.append(f"{label} {', '.join(keys[:limit])}{more}")
    return "; ".join(parts)
