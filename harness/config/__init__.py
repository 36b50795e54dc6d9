"""Configuration as data: typed dataclasses loaded from YAML with unknown keys rejected."""
from harness.config.schema import (CriticsConfig, GeneratorConfig, MethodConfig, ModelsConfig,
                                   RunConfig, SearchConfig)
from harness.config.typed import apply_override, from_dict, parse_set, read_yaml, to_dict

__all__ = ["CriticsConfig", "GeneratorConfig", "MethodConfig", "ModelsConfig", "RunConfig",
           "SearchConfig", "apply_override", "from_dict", "parse_set", "read_yaml", "to_dict"]
