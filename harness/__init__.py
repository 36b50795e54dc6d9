"""harness: evaluation and benchmarking of caption-to-image search in a GAN's latent space.

Data flows one way: caption -> latents -> images -> critics -> archive -> metrics -> report.
Nothing runs at import: models are loaded by `harness.models.load_models`.
"""

__version__ = "0.1.0"
