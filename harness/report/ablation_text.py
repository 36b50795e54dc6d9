"""The words of an ablation's report: one line per change with its numbers, and the warnings that go first."""
from __future__ import annotations

from harness.metrics import power
from harness.report.markdown import NO_MEANING


def change_label(row: dict) -> str:
    return " ".join([*(f"− {c}" for c in row["removed"]), *(f"+ {c}" for c in row["added"])]) or row["variant"]


def number(name: str, e: dict) -> str:
    """'name +0.012 [-0.003, +0.027], adjusted p 0.25, smallest detectable 0.02' (or why none is)."""
    if e.get("value") is None:
        return f"{name}: no paired value"
    lo, hi = e.get("interval") or (None, None)
    ci = f" [{lo:+.3g}, {hi:+.3g}]" if lo is not None else ""
    p = e.get("p_adjusted")
    text = f"{name} {e['value']:+.3g}{ci}, adjusted p {p:.2g}" if p is not None else f"{name} {e['value']:+.3g}{ci}"
    if e.get("mde") is not None:
        return text + f", smallest detectable {e['mde']:.3g}"
    if e.get("no_variation"):
        return text + ", the same on every caption"
    if e.get("mde_note"):
        return text + f", not detectable with {e['captions']} captions"
    return text


def sentence(change: str, entries: dict, judges: list[str]) -> str:
    """One line: what `change` does on each held-out judge, then on each in-loop critic."""
    moved = {v: [m for m, e in entries.items() if e.get("verdict") == v] for v in ("better", "worse")}
    verdict_text = "; ".join(f"{'raises' if v == 'better' else 'lowers'} {', '.join(ms)}"
                             for v, ms in moved.items() if ms) or "no detectable change"
    judged = [number(m, e) for m, e in entries.items() if m in judges]
    critics = [number(m, e) for m, e in entries.items() if m not in judges]
    parts = [f"**{change}**: {verdict_text}"]
    if judged:
        parts.append("held-out judges: " + "; ".join(judged))
    if critics:
        parts.append("in-loop critics: " + "; ".join(critics))
    return ". ".join(parts) + "."


def floor_note(captions: int) -> str | None:
    """What `captions` captions can and cannot show (None when the test can reach alpha)."""
    if captions >= power.wilcoxon_min_captions():
        return None
    from harness.metrics.stats import wilcoxon_floor

    return (f"With {captions} caption(s) the smallest p the Wilcoxon test over captions can reach is "
            f"{wilcoxon_floor(captions):.3g}: no difference can reach p < {power.ALPHA}; it needs at least "
            f"{power.wilcoxon_min_captions()} captions")


def warnings(manifest: dict, captions: int) -> list[str]:
    """The report's warnings, at the top: meaningless models, too few captions, the suite's own warnings."""
    out = []
    profile = manifest.get("models", {}).get("profile")
    if profile in NO_MEANING:
        out += [f"> **These numbers come from {NO_MEANING[profile]}: they show that the ablation runs and carry no "
                "meaning about image quality.** Run with `--models default` (real weights) for results.", ""]
    note = floor_note(captions)
    if note:
        out += [f"> **{note}.** Every verdict below is therefore \"no difference\"; run more captions.", ""]
    out += [f"- warning: {w}" for w in manifest.get("suite", {}).get("warnings", [])]
    return out + ([""] if manifest.get("suite", {}).get("warnings") else [])
