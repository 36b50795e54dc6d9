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


def _file_record(obj) -> dict:
    module = inspect.getmodule(obj)
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
        except Exception as exc:  # whatever the plugin's import raises: one line
            raise HarnessError(f"{option}: the {what} plugin {reference!r} (entry point {ep.value} of {group}) fails "
                               f"to import: {type(exc).__name__}: {exc}; fix or uninstall that package") from None
        dist = getattr(ep, "dist", None)
        source = {"reference": reference, "entry_point": f"{group}:{ep.name}={ep.value}",
                  "distribution": getattr(dist, "name", None), "version": getattr(dist, "version", None),
                  **_file_record(obj)}
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
    except Exception as exc:
        raise HarnessError(f"{option}: the {what} plugin module {module_name!r} fails to import: "
                           f"{type(exc).__name__}: {exc}") from None
    obj = module
    for part in attribute.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise HarnessError(f"{option}: module {module_name!r} has no {attribute!r} for the {what} plugin "
                               f"{reference!r}")
    return obj, {"reference": reference, "distribution": None, "version": None, **_file_record(obj)}
