"""Caption suites (suites/<name>/suite.yaml + captions) and prompt-set importers."""
from harness.suites.captions import Caption, load_captions
from harness.suites.suite import Suite, SuiteConfig, load_suite

__all__ = ["Caption", "Suite", "SuiteConfig", "load_captions", "load_suite"]
