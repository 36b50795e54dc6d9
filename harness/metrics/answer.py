"""The answer to the report's question: does each evolutionary method give better images than each
control, according to the judges the search did not optimise?

For every evolutionary method (algorithm nsga2, ga or evo_trajectory) against every control (no search, random search
at the same budget, picked by the method's own policy, zero-order search when the run has it, and a
single-objective GA when the method has several objectives), per held-out judge: the mean of per-caption mean differences, its interval over
captions, the Wilcoxon p over captions adjusted for this section's tests (Benjamini-Hochberg), and
the minimum detectable effect at 80 % power for this number of captions from the run's own
caption-level variance (harness.metrics.power). A difference counts when its adjusted p is below
alpha = 0.05; each comparison gets one sentence.
"""
from __future__ import annotations

from harness.metrics import evidence, power
from harness.metrics.paired import adjust_for_multiple_tests, control_under

EVOLUTIONARY = ("nsga2", "ga", "evo_trajectory")
CORRECTION = "Benjamini-Hochberg over this section's tests (every method x control x held-out judge)"
QUESTION = ("Does each evolutionary method give better images than each control, according to the judges "
            "the search did not optimise?")


def comparisons(manifest: dict, methods: list[str]) -> list[tuple[str, str]]:
    """(method, control) pairs: each evolutionary method against no search, random search and, when it has
    several objectives, a single-objective GA."""
    spec = manifest.get("methods", {})
    algo = {m: spec.get(m, {}).get("algorithm") for m in methods}
    out = []
    for m in methods:
        if algo[m] not in EVOLUTIONARY:
            continue
        for c in methods:
            several = len(spec.get(m, {}).get("objectives", [])) > 1
            control = algo[c] in ("single", "random", "zero_order", "zero_order_greedy")
            if c != m and (control or (algo[c] == "ga" and several)):
                out.append((m, c))
    return out


def held_out(ctx) -> list[str]:
    """The judges the search did not optimise (CLIPScore by the search's own CLIP is not one) that scored some
    image (geneval scores only captions with requirements)."""
    import numpy as np

    return [n for n in ctx.judge_columns() if not (n == "clipscore" and ctx.evaluator.same)
            and np.isfinite(ctx.jobs[n].to_numpy(dtype=np.float64)).any()]


def paired_with_power(ma, mb, design: evidence.Design, cfg, higher_is_better: bool, name: str,
                      differences: bool = True) -> dict:
    """evidence.paired_entry of ma - mb ([C, S] each) with the smallest effect this many captions detect
    (`mde`, 80 % power) or why there is none (`no_variation`, `mde_note`), and the per-cell differences."""
    entry = evidence.paired_entry(ma, mb, design, cfg.bootstrap, cfg.confidence, higher_is_better)
    d = ma - mb
    components = power.variance_components(d)
    entry["caption_sd"] = components["caption_sd"]
    entry["mde"] = power.minimum_detectable_effect(components["caption_sd"], components["captions"])
    if components["caption_sd"] == 0:  # every caption's difference is the same: nothing to scale by
        entry["no_variation"] = (f"{name} gave the same difference on every caption "
                                 f"({entry.get('value') or 0:+.3g}): no smallest detectable effect")
    elif entry["mde"] is None and components["captions"] < power.wilcoxon_min_captions():
        entry["mde_note"] = (f"not detectable with {components['captions']} captions: the Wilcoxon test over "
                             f"captions needs at least {power.wilcoxon_min_captions()} to reach p < {power.ALPHA}")
    if differences:  # the per-cell table metrics.json keeps for the run's answer
        entry["differences"] = evidence.differences_table(d, design)
    return entry


def verdict(entry: dict, alpha: float = power.ALPHA) -> str:
    p = entry.get("p_adjusted")
    if entry.get("value") is None or p is None or not p < alpha:
        return "no difference detectable"
    better = (entry["value"] > 0) == bool(entry.get("higher_is_better", True))
    return "better" if better else "worse"


def _number(entry: dict, judge: str) -> str:
    lo, hi = entry["interval"] or (None, None)
    ci = f" [{lo:+.3g}, {hi:+.3g}]" if lo is not None else ""
    return f"{judge} {entry['value']:+.3g}{ci}, adjusted p {entry['p_adjusted']:.2g}"


def sentence(method: str, control: str, judges: dict, design_note: str) -> str:
    """One sentence that answers the comparison."""
    wins = [j for j, e in judges.items() if e["verdict"] == "better"]
    losses = [j for j, e in judges.items() if e["verdict"] == "worse"]
    none = [j for j, e in judges.items() if e["verdict"] == "no difference detectable"]
    total = len(judges)
    if not wins and not losses:
        detectable = [f"{j} {e['mde']:.3g}" if e.get("mde") is not None else
                      f"{j} none (no variation)" if e.get("no_variation") else f"{j} none ({e['captions']} captions)"
                      for j, e in judges.items()]
        floor = (f" (the Wilcoxon test over captions needs at least {power.wilcoxon_min_captions()} captions to reach "
                 f"p < {power.ALPHA})") if any(e.get("mde_note") for e in judges.values()) else ""
        return (f"No difference between {method} and {control} is detectable on any of the {total} held-out judge(s) "
                f"at {design_note}; the smallest differences this run could detect (80 % power, alpha "
                f"{power.ALPHA}): {', '.join(detectable)}{floor}.")
    parts = []
    if wins:
        parts.append(f"{method} beats {control} on {len(wins)} of {total} held-out judge(s) ("
                     + "; ".join(_number(judges[j], j) for j in wins) + ")")
    if losses:
        parts.append(f"{'it' if wins else method} loses to {control} on {len(losses)} of {total} ("
                     + "; ".join(_number(judges[j], j) for j in losses) + ")")
    if none:
        parts.append("no difference is detectable on " + ", ".join(
            f"{j} (smallest detectable: {judges[j]['mde']:.3g})" if judges[j].get("mde") is not None else
            f"{j} (it never varied)" if judges[j].get("no_variation") else j
            for j in none))
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + f", at {design_note}."


def section(ctx) -> dict:
    jobs = ctx.jobs
    methods = list(dict.fromkeys(jobs["method"]))
    judges = held_out(ctx)
    design = ctx.design
    base = {"question": QUESTION, "judges": judges, "captions": len(design.captions), "seeds": len(design.seeds),
            "alpha": power.ALPHA, "power": power.POWER, "assumed_test": power.ASSUMED_TEST,
            "profile": ctx.manifest.get("models", {}).get("profile")}
    pairs = comparisons(ctx.manifest, methods)
    if not judges:
        return {**base, "skipped": "no held-out judge: metrics.evaluators names none the search did not optimise"}
    ablation = ctx.manifest.get("suite", {}).get("ablation")
    if not pairs and ablation:
        return {**base, "skipped": f"this run is an ablation of {ablation['method']} (harness ablate): its variants "
                                   "are compared with the full method in ../critic_ablation.md; to also compare them "
                                   "with controls, rerun with --with-controls (adds best_of_n and no_selection)"}
    if not pairs:
        return {**base, "skipped": "no evolutionary method with a control among this run's methods"}
    out = []
    for method, control in pairs:
        table, note = control_under(ctx, method, control)
        a, b = table[table["method"] == method], table[table["method"] == control]
        entries = {}
        for judge in judges:
            entry = paired_with_power(design.matrix(a, judge), design.matrix(b, judge), design, ctx.cfg,
                                      ctx.directions.get(judge, True), judge)
            entries[judge] = entry
        out.append({"method": method, "control": control, **note, "judges": entries})
    adjust_for_multiple_tests([e for c in out for e in c["judges"].values()], CORRECTION)
    for c in out:
        for e in c["judges"].values():
            e["verdict"] = verdict(e)
        n = max((e["captions"] for e in c["judges"].values()), default=0)
        s = max((e["seeds"] for e in c["judges"].values()), default=0)
        c["sentence"] = sentence(c["method"], c["control"] + (f" (picked by {c['control_pick']})"
                                                                if c.get("control_pick") else ""),
                                 c["judges"], f"N = {n} captions x {s} seeds")
    return {**base, "comparisons": out}
