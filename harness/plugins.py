"""Plugins: extension points open to code outside the package, loaded only when a run names them.

Five groups of Python entry points (`importlib.metadata`): `harness.critics`, `harness.judges`,
`harness.generators`, `harness.metrics` and `harness.importers`. A plugin is named by its entry-point
name, or given as `module:attribute` for a module on the path (`--set critics.plugins=[mymod:MyCritic]`).
Listing the entry points imports nothing; a plugin's module is imported only when a run names it, so a
broken plugin that no run names stops nothing. Whatever loads a plugin is recorded (`source`): the
reference, its distribution and version, the module, the file and the sha256 of its source, so a run
says exactly what scored it. Every failure to load is one HarnessError line.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import re
from importlib import metadata

from harness.errors import HarnessError

GROUPS = ("harness.critics", "harness.judges", "harness.generators", "harness.metrics", "harness.importers")
REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def entry_points(group: str) -> dict[str, metadata.EntryPoint]:
    """name -> entry point of `group` (nothing imported)."""
    return {ep.name: ep for ep in metadata.entry_points(group=group)}


def raised(exc: BaseException) -> str:
    """What a plugin did, in words: 'called sys.exit(3)' or 'ValueError: message' (one line, at most 300 characters
    of the message)."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _file_record(obj, module_name: str | None = None) -> dict:
    """The plugin's own module and source file with its sha256: the module the reference names (an object made
    from a harness class, e.g. a MetricSection instance, is the plugin's, not harness's), else the object's."""
    import sys

    module = sys.modules.get(module_name) if module_name else None
    module = module or inspect.getmodule(obj)
    path = getattr(module, "__file__", None)
    record = {"module": getattr(module, "__name__", None), "file": path}
    if path:
        try:
            with open(path, "rb") as fh:
                record["sha256"] = hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            record["sha256"] = None
    return record


def load(reference: str, group: str, what: str, option: str):
    """(object, source record) for `reference`: an entry-point name of `group`, or `module:attribute`.
    what: what the object is, for messages ("critic"); option: where the user named it (--set key)."""
    points = entry_points(group)
    if reference in points:
        ep = points[reference]
        try:
            obj = ep.load()
        except (Exception, SystemExit) as exc:  # whatever the plugin's import raises or exits with: one line
            raise HarnessError(f"{option}: the {what} plugin {reference!r} (entry point {ep.value} of {group}) fails "
                               f"to import: {raised(exc)}; fix or uninstall that package") from None
        dist = getattr(ep, "dist", None)
        source = {"reference": reference, "entry_point": f"{group}:{ep.name}={ep.value}",
                  "distribution": getattr(dist, "name", None), "version": getattr(dist, "version", None),
                  **_file_record(obj, ep.value.partition(":")[0].strip())}
        return obj, source
    if not REFERENCE.fullmatch(reference or ""):
        known = ", ".join(sorted(points)) or "none installed"
        raise HarnessError(f"{option}: no {what} plugin {reference!r}: give an entry-point name of {group} "
                           f"(installed: {known}) or module:Class for a module on the Python path")
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise HarnessError(f"{option}: no module {module_name!r} for the {what} plugin {reference!r}; put its "
                               "folder on PYTHONPATH or install it") from None
        raise HarnessError(f"{option}: the {what} plugin module {module_name!r} fails to import: "
                           f"ModuleNotFoundError: {exc}") from None
    except (Exception, SystemExit) as exc:
        raise HarnessError(f"{option}: the {what} plugin module {module_name!r} fails to import: "
                           f"{raised(exc)}") from None
    obj = module
    for part in attribute.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise HarnessError(f"{option}: module {module_name!r} has no {attribute!r} for the {what} plugin "
                               f"{reference!r}")
    return obj, {"reference": reference, **distribution_of(module), **_file_record(obj, module_name)}


def distribution_of(module) -> dict:
    """The installed distribution a module comes from ({'distribution', 'version'}; None for a loose file)."""
    top = getattr(module, "__name__", "").split(".")[0]
    names = metadata.packages_distributions().get(top, [])
    if not names:
        return {"distribution": None, "version": None}
    try:
        return {"distribution": names[0], "version": metadata.version(names[0])}
    except metadata.PackageNotFoundError:
        return {"distribution": names[0], "version": None}


KIND_GROUP = {"critic": "harness.critics", "judge": "harness.judges", "generator": "harness.generators",
              "metric section": "harness.metrics", "caption importer": "harness.importers"}


def recorded(manifest: dict, metrics: dict | None = None) -> list[dict]:
    """Every plugin a run recorded (its critics' plugin records, the manifest's and metrics.json's `plugins`), one
    record per (kind, name), each with its kind and name."""
    out: dict[tuple, dict] = {}
    for c in manifest.get("critics", []):
        if isinstance(c, dict) and c.get("plugin"):
            out[("critic", c["name"])] = {"kind": "critic", "name": c["name"], **c["plugin"]}
    for p in [*manifest.get("plugins", []), *(metrics or {}).get("plugins", [])]:
        out.setdefault((p.get("kind"), p.get("name")), p)
    return list(out.values())


def installed(record: dict) -> bool:
    """Whether the plugin a record names can be loaded here (looked up, nothing imported)."""
    import importlib.util

    group = KIND_GROUP.get(record.get("kind"))
    reference = record.get("reference") or record.get("name")
    if group and reference in entry_points(group):
        return True
    module = (reference or "").partition(":")[0] if REFERENCE.fullmatch(reference or "") else None
    try:
        return bool(module) and importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(manifest: dict, metrics: dict | None = None, kinds=tuple(KIND_GROUP)) -> list[dict]:
    """The recorded plugins of `kinds` that are not installed here."""
    return [r for r in recorded(manifest, metrics) if r.get("kind") in kinds and not installed(r)]


def install_line(records: list[dict]) -> str:
    """'pip install DIST==VERSION ...' for the distributions the records name (a loose module: its file)."""
    dists = dict.fromkeys(f"{r['distribution']}=={r['version']}" if r.get("version") else r["distribution"]
                          for r in records if r.get("distribution"))
    loose = dict.fromkeys(r.get("file") or r.get("reference") for r in records if not r.get("distribution"))
    parts = [f"pip install {' '.join(dists)}"] if dists else []
    parts += [f"put {f} back on PYTHONPATH" for f in loose if f]
    return " and ".join(parts) or "install them"


def missing_message(records: list[dict], go_on: str | None) -> str:
    """One line: every missing plugin with its distribution, how to install them, and how to go on without."""
    names = "; ".join(f"{r['kind']} {r['name']!r}" + (f" ({r['distribution']} {r.get('version') or ''})".rstrip()
                                                      .replace(" )", ")") if r.get("distribution") else "")
                      for r in records)
    out = f"this run used {len(records)} plugin(s) that are not installed: {names}; install them: {install_line(records)}"
    return out + (f", or go on with what is installed: {go_on}" if go_on else "")
