"""Reports: report.md + figures/ for runs, comparisons and ablations."""

CAPTION_FIGURES = 12  # captions whose gallery and scatter matrices a report draws by default (0: all)
