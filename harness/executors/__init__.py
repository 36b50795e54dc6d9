"""Executors: run a suite's jobs (local, Ray) or one search into the run-directory layer."""
