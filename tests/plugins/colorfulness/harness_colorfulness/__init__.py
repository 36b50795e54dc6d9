"""Example harness plugins (tests/plugins/colorfulness): see pyproject.toml for their entry points."""
