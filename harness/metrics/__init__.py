"""Metrics computed from a run: hypervolume, CLIPScore, FID/KID, correlations, paired comparisons."""
