"""The run directory: the contract every stage after the search reads (layout, job key, manifest,
archive schema, lock, readers)."""
from harness.rundir.archive import ARCHIVE_COLUMNS, ARCHIVE_SCHEMA
from harness.rundir.layout import LAYOUT_VERSION, JobKey, job_folder
from harness.rundir.rundir import RunDir, check_writable, existing_run

__all__ = ["ARCHIVE_COLUMNS", "ARCHIVE_SCHEMA", "LAYOUT_VERSION", "JobKey", "RunDir", "check_writable",
           "existing_run", "job_folder"]
