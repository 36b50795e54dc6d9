"""Running suites: jobs, the run directory, archive, checkpoints and resume."""
from harness.runner.rundir import RunDir
from harness.runner.runner import RunOutcome, run_suite

__all__ = ["RunDir", "RunOutcome", "run_suite"]
