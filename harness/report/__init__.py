"""Reports: report.md + figures/ for runs, comparisons and ablations."""
