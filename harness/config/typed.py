"""Build typed config dataclasses from plain dicts, rejecting unknown keys and wrong types.

Every error names the file (or the command-line option) and the dotted field, in one line.
"""
from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigError


MAX_FILE_BYTES = 16 * 2 ** 20  # a suite, method or captions file (Parti's 1,632 prompts: 0.12 MB)
MAX_EXPANDED_NODES = 100_000  # a YAML document's nodes with every alias expanded (GenEval's 553 captions: ~10,000)
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # 1e-3, 5E2, .5: YAML 1.1 reads some as text


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a mapping with a key twice (YAML says keys are unique; PyYAML keeps
    the last silently) and a document whose aliases expand it past MAX_EXPANDED_NODES nodes (a "billion laughs":
    a few lines of anchors that become gigabytes once anything walks them)."""

    def compose_document(self):
        node = super().compose_document()
        sizes: dict[int, int] = {}

        def expanded(n) -> int:  # nodes with every alias expanded, each shared node measured once
            if id(n) not in sizes:
                sizes[id(n)] = 1  # a recursive alias counts once, never loops
                if isinstance(n, yaml.SequenceNode):
                    sizes[id(n)] = 1 + sum(expanded(c) for c in n.value)
                elif isinstance(n, yaml.MappingNode):
                    sizes[id(n)] = 1 + sum(expanded(k) + expanded(v) for k, v in n.value)
            return sizes[id(n)]
        if node is not None and expanded(node) > MAX_EXPANDED_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"its aliases (&anchor / *alias) expand it to {expanded(node):,} nodes, more than the "
                f"{MAX_EXPANDED_NODES:,} a suite or captions file may have; write the values out instead", node.start_mark)
        return node

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
            if isinstance(key, (str, int, float, bool)):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str, where: str):
    """YAML text -> data (unique keys); malformed YAML is one ConfigError naming `where`, the line and the problem."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        kind = "YAML refused" if "aliases" in problem else "malformed YAML"
        raise ConfigError(f"{where}: {kind}{at}: {problem}") from None


def check_size(path: Path, what: str = "file") -> None:
    """A suite, method or captions file over MAX_FILE_BYTES is refused before it is read, naming the limit."""
    size = Path(path).stat().st_size
    if size > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: {size / 2 ** 20:.1f} MB, over the {MAX_FILE_BYTES // 2 ** 20} MB a {what} may be; "
                          "split it into several suites (Parti's 1,632 prompts take 0.12 MB)")


def read_text_utf8(path: Path) -> str:
    """A text file as UTF-8 (at most MAX_FILE_BYTES); another encoding is one ConfigError naming the file and the
    byte."""
    check_size(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str, field: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where, field)
            except ConfigError as exc:
                # the error of the alternative the value is shaped like says what is wrong with it
                matches = isinstance(value, dict) and dataclasses.is_dataclass(arg) or \
                    isinstance(value, list) and typing.get_origin(arg) is list
                errors.insert(0, str(exc)) if matches else errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: field '{field}' has an invalid value {value!r}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: field '{field}' must be a mapping, got {value!r}")
        if hasattr(tp, "from_plain"):  # a section whose keys are open (critics: one per critic of the run)
            return tp.from_plain(value, where, prefix=f"{field}.")
        return from_dict(tp, value, where, prefix=f"{field}.")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: field '{field}' must be a list, got {value!r}")
        return [_coerce(v, args[0], where, f"{field}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: field '{field}' must be a mapping, got {value!r}")
        return {str(k): _coerce(v, args[1], where, f"{field}.{k}") for k, v in value.items()}
    if origin is typing.Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{where}: field '{field}' must be one of {choices}, got {value!r}")
        return value
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
            value = float(value)  # scientific notation that YAML 1.1 leaves as text (1e-3)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: field '{field}' must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{where}: field '{field}' must be a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: field '{field}' must be an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: field '{field}' must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: field '{field}' must be a string, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {_type_name(tp)} for {field}")


def from_dict(cls: type, data: dict, where: str, prefix: str = "") -> Any:
    """Build dataclass `cls` from `data`; unknown keys and wrong types raise ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping{' for ' + prefix.rstrip('.') if prefix else ''}, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, data)) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields))
        raise ConfigError(f"{where}: unknown key '{prefix}{unknown[0]}' (known keys: {known})")
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(value, hints[name], where, f"{prefix}{name}")
    try:
        obj = cls(**kwargs)
    except TypeError as exc:
        missing = [f for f in fields.values()
                   if f.name not in kwargs and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        if missing:
            raise ConfigError(f"{where}: missing required key '{prefix}{missing[0].name}'") from exc
        raise
    validate = getattr(obj, "validate", None)
    if validate is not None:
        validate(where, prefix)
    return obj


def to_dict(obj: Any) -> Any:
    """Plain-data (JSON/YAML-safe) copy of a config dataclass (a section with `to_plain` gives its own)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_plain"):
            return obj.to_plain()
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping; missing files and malformed YAML are one-line ConfigErrors."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    data = load_yaml_text(read_text_utf8(path), str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a YAML mapping at the top level, got {type(data).__name__}")
    return data


def parse_set(assignment: str) -> tuple[str, Any]:
    """Parse one `--set key.path=value`; the value is read as YAML (numbers, lists, strings)."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected key=value, e.g. --set critics.image_real.temperature=0.5")
    key, raw = assignment.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {assignment!r}: the key is empty or has an empty part")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, dict) and len(value) == 1 and None in value.values() and not raw.strip().startswith("{"):
        value = raw.strip()  # 'diffusion:' is the text it looks like, not the mapping {diffusion: None}
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        value = float(value) if any(c in value for c in ".eE") else int(value)  # 1e-3: YAML 1.1 reads it as text
    return key, value


def apply_override(data: dict, key: str, value: Any, where: str) -> None:
    """Set `data[a][b][c] = value` for key `a.b.c`, creating mappings on the way. A mapping given for a mapping
    is merged into it key by key (`--set 'search={population: 4}'` changes the population only); an empty
    one sets nothing and is refused, never a silent reset of the section."""
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"{where}: cannot set '{key}': '{part}' is not a mapping")
        node = child
    if isinstance(value, dict):
        if not value:
            raise ConfigError(f"{where}: '{key}' is given an empty mapping, which sets nothing; set its fields, e.g. "
                              f"--set {key}.FIELD=VALUE ('harness config' lists them)")
        if isinstance(node.get(parts[-1]), dict):
            for k, v in value.items():
                apply_override(node, f"{parts[-1]}.{k}", v, where)
            return
        node[parts[-1]] = {}
        for k, v in value.items():
            apply_override(node, f"{parts[-1]}.{k}", v, where)
        return
    node[parts[-1]] = value


def field_comments(cls) -> dict[str, str]:
    """The `# comment` after (or on the lines just above) each field of a config dataclass."""
    import inspect
    import re

    comments, above = {}, []
    for line in inspect.getsource(cls).splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# "))
            continue
        match = re.match(r"\s+(\w+)\s*:[^#]*?(?:#\s*(.*))?$", line)
        if match and not stripped.startswith(("def ", "@")):
            comments[match.group(1)] = " ".join([*above, match.group(2) or ""]).strip()
        above = []
    return comments


def describe_fields(cls, prefix: str = "") -> list[tuple[str, str, str]]:
    """(dotted key, default, comment) of every settable field under `cls`, nested sections flattened."""
    rows = []
    comments = field_comments(cls)
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        if dataclasses.is_dataclass(default):
            rows += describe_fields(type(default), f"{prefix}{f.name}.")
        else:
            shown = "(required)" if default is dataclasses.MISSING else repr(default)
            rows.append((f"{prefix}{f.name}", shown, comments.get(f.name, "")))
    return rows
