"""StyleGAN2-ADA networks: our own generator (network.py, ops.py) and a safe pickle loader (safe_pickle.py)."""
from harness.models.stylegan2.network import Generator
from harness.models.stylegan2.safe_pickle import UnsafePickleError, load_generator, write_network_pickle

__all__ = ["Generator", "UnsafePickleError", "load_generator", "write_network_pickle"]
