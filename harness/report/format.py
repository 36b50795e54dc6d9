"""How a metrics.json entry reads in a table: value [interval] ± std, with its direction arrow."""
from __future__ import annotations


def arrow(higher: bool | None) -> str:
    return "" if higher is None else (" ↑" if higher else " ↓")


def fmt(entry: dict | None, digits: int = 3) -> str:
    if not entry or entry.get("value") is None:
        return "—"
    text = f"{entry['value']:.{digits}f}"
    if entry.get("interval"):
        text += f" [{entry['interval'][0]:.{digits}f}, {entry['interval'][1]:.{digits}f}]"
    if "std" in entry:
        text += f" ± {entry['std']:.{digits}f}"
    return text


def n_of(entry: dict | None) -> str:
    """N as the evidence counts it: 'captions × seeds' (the caption is the unit), else the number of values."""
    if not entry:
        return "—"
    if entry.get("captions") is not None and entry.get("seeds") is not None:
        return f"{entry['captions']} × {entry['seeds']}"
    return str(entry.get("n", "—"))


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
