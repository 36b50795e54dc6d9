"""Captions and the importers for public prompt sets.

Formats: the suite's own YAML (a list of {id, caption, tags}), PartiPrompts TSV (Prompt, Category,
Challenge, Note), GenEval JSONL ({tag, include, prompt}) and plain text (one caption a line).
Filters by category and tag, then an optional seeded sample.
"""
from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigError


@dataclass(frozen=True)
class Caption:
    """A caption as every stage after the suite sees it (judges and text-conditioned generators read it)."""

    id: str  # unique within a suite; names the job folders
    text: str
    tags: tuple[str, ...] = ()
    category: str | None = None
    provenance: dict = field(default_factory=dict, compare=False, hash=False)
    requirements: dict | None = field(default=None, compare=False, hash=False)  # GenEval-style: include/exclude

    def context(self) -> str:
        """What a judge's cached score of an image depends on besides the image: the text and requirements."""
        if not self.requirements:
            return self.text
        import json

        return self.text + "|" + json.dumps(self.requirements, sort_keys=True)




def read_yaml_captions(path: Path) -> list[Caption]:
    from harness.config.typed import load_yaml_text

    data = load_yaml_text(path.read_text(encoding="utf-8"), str(path))
    if data is None:
        data = []
    if isinstance(data, dict) and "captions" in data:
        data = data["captions"]
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a list of captions ({{id, caption, tags}})")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: caption #{i + 1} must be a mapping with id and caption")
        unknown = sorted(set(item) - {"id", "caption", "tags", "category", "provenance", "requires"})
        if unknown:
            raise ConfigError(f"{path}: caption #{i + 1}: unknown key '{unknown[0]}' "
                              "(known keys: caption, category, id, provenance, requires, tags)")
        if "caption" not in item:
            raise ConfigError(f"{path}: caption #{i + 1} has no 'caption' field")
        tags = item.get("tags") or []
        if isinstance(tags, str) or not isinstance(tags, list):
            raise ConfigError(f"{path}: caption #{i + 1}: 'tags' must be a list")
        cid = item.get("id", f"c{i + 1:03d}")
        if not isinstance(cid, (str, int)) or isinstance(cid, bool):
            raise ConfigError(f"{path}: caption #{i + 1}: 'id' must be text, got {_kind(cid)}")
        text = item["caption"]
        if text is None:
            raise ConfigError(f"{path}: caption '{cid}' is empty")
        if not isinstance(text, str):
            raise ConfigError(f"{path}: caption '{cid}' must be text, got {_kind(text)} (quote it in the YAML)")
        from harness.config.requirements import check_requirements

        requires = check_requirements(item.get("requires"), f"{path}: caption '{cid}'")
        out.append(Caption(str(cid), text, tuple(map(str, tags)), item.get("category"),
                           dict(item.get("provenance") or {}), requires))
    return out


def _kind(value) -> str:
    return {list: "a list", dict: "a mapping", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def read_parti(path: Path) -> list[Caption]:
    """PartiPrompts TSV: columns Prompt, Category, Challenge (Note optional); tags = [category, challenge]."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"Prompt", "Category", "Challenge"} - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(f"{path}: not a PartiPrompts TSV (missing columns {', '.join(sorted(missing))})")
        out = []
        for i, row in enumerate(reader):
            if None in row or any(row[k] is None for k in ("Prompt", "Category", "Challenge")):
                got = len([v for v in row.values() if v is not None])
                raise ConfigError(f"{path}: line {reader.line_num}: expected the tab-separated columns "
                                  f"{', '.join(reader.fieldnames)}, got {got} field(s)")
            out.append(Caption(f"parti-{i:04d}", row["Prompt"], (row["Category"], row["Challenge"]), row["Category"]))
        return out


def read_geneval(path: Path) -> list[Caption]:
    """GenEval metadata JSONL: one {tag, include, exclude, prompt} per line; category = tag, and the clauses
    (with the tag) kept as the caption's requirements."""
    from harness.config.requirements import check_requirements

    out = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise ConfigError(f"{path}: line {i + 1} is not JSON") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{path}: line {i + 1} is {_kind(row)}, not a JSON object with a 'prompt'")
            if "prompt" not in row:
                raise ConfigError(f"{path}: line {i + 1} has no 'prompt'")
            if not isinstance(row["prompt"], str):
                raise ConfigError(f"{path}: line {i + 1}: 'prompt' must be text, got {_kind(row['prompt'])}")
            tag = row.get("tag", "")
            if not isinstance(tag, str):
                raise ConfigError(f"{path}: line {i + 1}: 'tag' must be text, got {_kind(tag)}")
            clauses = {k: row[k] for k in ("include", "exclude") if k in row}
            requires = check_requirements({**clauses, **({"tag": tag} if tag else {})}, f"{path}: line {i + 1}") \
                if clauses else None
            out.append(Caption(f"geneval-{len(out):04d}", row["prompt"], (tag,) if tag else (), tag or None,
                               requirements=requires))
    return out


def read_text(path: Path) -> list[Caption]:
    """Plain text: one caption a line; blank lines are skipped."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return [Caption(f"line-{i + 1:04d}", ln) for i, ln in enumerate(lines) if ln]


def control_character(text: str) -> str | None:
    """The first control character in `text` (NUL, terminal escapes, newlines...) as U+XXXX, or None.
    Any other Unicode text is welcome: the report's own language is Chinese."""
    import unicodedata

    for ch in text:
        if unicodedata.category(ch) == "Cc":
            return f"U+{ord(ch):04X}"
    return None


@dataclass(frozen=True)
class Importer:
    """A caption format's one registration: its name, its reader (path -> list of Caption) and the file
    extensions that mean it. Outside the package: an entry point of harness.importers (or module:ATTR) naming
    an Importer, used when a suite names its format (or, for an entry point named like the extension, its
    file's extension)."""

    format: str
    read: object
    extensions: tuple[str, ...] = ()
    source: dict = field(default_factory=dict, compare=False)  # a plugin's provenance (harness.plugins.load)


IMPORTERS = {i.format: i for i in (Importer("yaml", read_yaml_captions, (".yaml", ".yml")),
                                   Importer("parti", read_parti, (".tsv",)),
                                   Importer("geneval", read_geneval, (".jsonl",)),
                                   Importer("text", read_text, (".txt",)))}
FORMATS = tuple(IMPORTERS)
GROUP = "harness.importers"


def importer(fmt: str | None, path: Path, where: str = "captions") -> Importer:
    """The importer of format `fmt` (None: by the file's extension): a built-in one, or a plugin loaded now."""
    from harness import plugins

    suffix = Path(path).suffix.lower()
    if fmt is None:
        found = next((i for i in IMPORTERS.values() if suffix in i.extensions), None)
        if found is not None:
            return found
        fmt = suffix.lstrip(".")
        if fmt not in plugins.entry_points(GROUP):
            raise ConfigError(f"{path}: unknown captions format (extension {suffix or 'none'!r}); set captions: "
                              f"{{file: ..., format: FORMAT}} with FORMAT one of {', '.join(FORMATS)} or an importer "
                              "plugin")
    if fmt in IMPORTERS:
        return IMPORTERS[fmt]
    if fmt not in plugins.entry_points(GROUP) and ":" not in fmt:
        installed = ", ".join(plugins.entry_points(GROUP)) or "none installed"
        raise ConfigError(f"{where}: field 'captions.format' must be one of {', '.join(FORMATS)} or an importer plugin "
                          f"(an entry point of {GROUP}: {installed}; or module:ATTR), got {fmt!r}")
    obj, source = plugins.load(fmt, GROUP, "caption importer", "captions.format")
    from harness.contracts import check

    check(obj, "caption importer", fmt, "captions.format")
    read = obj.read
    return Importer(fmt, read, tuple(getattr(obj, "extensions", ()) or ()), source)


def file_problem(path: Path, what: str) -> str:
    """Why `path` is not a readable file, in words (not there, a folder, a symbolic-link loop, a FIFO...)."""
    import os
    import stat

    if path.is_symlink() and not path.exists():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            return f"a symbolic link that loops; make it a {what} file"
        except OSError:
            return f"a symbolic link to {os.readlink(path)}, which does not exist"
    if not path.exists():
        return f"no {what} here" if what == "suite.yaml" else f"{what} file not found"
    if path.is_dir():
        return f"a folder, not a {what} file"
    mode = path.stat().st_mode
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else \
        "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
    return f"{kind}, not a {what} file"


def load_captions(path: Path, fmt: str | None = None, category: list[str] = (), tag: list[str] = (),
                  sample: int | None = None, seed: int = 0, reader: Importer | None = None) -> list[Caption]:
    """Read captions, keep those in any of `category` and carrying any of `tag`, then sample."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: {file_problem(path, 'captions')}")
    reader = reader or importer(fmt, path)
    from harness.config.typed import check_size

    check_size(path, "captions file")
    try:
        captions = reader.read(path)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the captions file as UTF-8") from None
    if reader.source and not all(isinstance(c, Caption) for c in captions):
        raise ConfigError(f"{path}: the importer plugin {reader.format!r} must return harness.suites.captions.Caption "
                          "objects")
    if category:
        wanted = {c.lower() for c in category}
        captions = [c for c in captions if (c.category or "").lower() in wanted]
    if tag:
        wanted = {t.lower() for t in tag}
        captions = [c for c in captions if wanted & {t.lower() for t in c.tags}]
    if sample is not None:
        if sample < 1:
            raise ConfigError(f"{path}: sample must be >= 1, got {sample}")
        if sample < len(captions):
            keep = sorted(random.Random(seed).sample(range(len(captions)), sample))
            captions = [captions[i] for i in keep]
    return captions
