"""compare.md + side-by-side galleries for `harness compare`."""
from __future__ import annotations

from pathlib import Path

from harness.report import figures
from harness.report.format import arrow, fmt
from harness.report.markdown import link, md_table
from harness.rundir import JobKey
from harness.rundir.files import atomic_write_bytes, write_json


def write_comparison(folder: Path, comparisons: list) -> Path:
    """comparisons: (title, result, notes, run A, run B, method pair or None)."""
    folder = Path(folder)
    lines = ["# Comparison", ""]
    dump = []
    for k, (title, result, notes, ra, rb, pair) in enumerate(comparisons):
        lines += [f"## {title}", ""]
        lines += [f"- note: {n}" for n in notes]
        for side, label in (("scores_only_a", "the first"), ("scores_only_b", "the second")):
            if result.get(side):
                lines.append(f"- scores only in {label} run (not compared): {', '.join(result[side])}")
        for side, label in (("only_a", "only in the first"), ("only_b", "only in the second")):
            if result["unmatched"][side]:
                lines.append(f"- {len(result['unmatched'][side])} job(s) {label}: "
                             + ", ".join("/".join(map(str, j)) for j in result["unmatched"][side][:10]))
        rows = []
        for method, metrics in result["methods"].items():
            for name, e in metrics.items():
                p = e["p_value"]
                rows.append([method, name + arrow(e["higher_is_better"]), fmt(e, 4),
                             "—" if p != p else f"{p:.3g}", f"{e.get('captions', '?')} × {e['seeds']}"])
        lines += ["", md_table(["method", "metric", "mean difference [95 % CI over captions]",
                                "Wilcoxon p (over captions)", "captions × seeds"], rows), ""]
        if result.get("fid"):
            lines += [md_table(["method", "FID difference ↓", "KID difference ↓", "N (each run)"],
                               [[m, f"{e['fid']:+.3f}" + (" †" if e.get("reliable") is False else ""),
                                 f"{e['kid']:+.4f}" if "kid" in e else "—", e["n"]]
                                for m, e in result["fid"].items()]), ""]
            if any(e.get("reliable") is False for e in result["fid"].values()):
                lines += ["† an FID of N images against d-dimensional features with N <= d (or a reference set as "
                          "small): dominated by sample size; read the KID difference.", ""]
        lines += _galleries(folder, k, ra, rb, pair)
        dump.append({"title": title, "notes": notes, **result})
    write_json(folder / "compare.json", dump)
    path = folder / "compare.md"
    atomic_write_bytes(path, ("\n".join(lines).rstrip() + "\n").encode())
    return path


def _galleries(folder: Path, k: int, ra, rb, pair) -> list[str]:
    archive = ra.read_final()
    sel = archive[archive["selected"]]
    seed = sorted(sel["seed"].unique())[0]
    lines = []
    for cid, group in sel[sel["seed"] == seed].groupby("caption_id", sort=False):
        caption = group["caption"].iloc[0]
        if pair:
            images = [(m, ra.selected_png(JobKey(cid, m, int(seed)))) for m in pair]
        else:
            images = []
            for m in dict.fromkeys(group["method"]):
                images.append((f"{m} ({ra.path.name})", ra.selected_png(JobKey(cid, m, int(seed)))))
                images.append((f"{m} ({rb.path.name})", rb.selected_png(JobKey(cid, m, int(seed)))))
        p = figures.save(figures.gallery(images, f"{caption} (seed {seed})"), folder / "figures" / f"{k}_{cid}.png")
        lines.append(link(p, folder, f"{cid}"))
    return lines + [""]
