"""The config: ``[tool.kerasmode-lint]`` in pyproject.toml, or the same keys
at the top level of ``kerasmode-lint.toml`` / ``.kerasmode-lint.toml``.

Like ruff, the nearest config above each file governs that file (in one
folder, ``.kerasmode-lint.toml`` beats ``kerasmode-lint.toml`` beats a
pyproject.toml with our section); ``--config`` forces one for every file and
``--isolated`` reads none.

A broken file or an unknown key is an error the user must see (exit 2 with
the file and the key named), never something silently skipped.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .backends import parse_keras_backend

SECTION = "kerasmode-lint"
_LIST_KEYS = ("select", "ignore", "extend-select", "extend-ignore", "exclude", "extend-exclude")
_BOOL_KEYS = ("force-exclude", "respect-gitignore")
KEYS = _LIST_KEYS + _BOOL_KEYS + (
    "per-file-ignores", "keras-version", "keras-backend", "python", "cache-dir", "jobs", "documentation-url",
)
# Searched in this order in each folder, nearest folder first.
CONFIG_NAMES = (".kerasmode-lint.toml", "kerasmode-lint.toml", "pyproject.toml")


class ConfigError(Exception):
    pass


def _toml():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10 only
        import tomli as tomllib
    return tomllib


@dataclass
class Config:
    path: Optional[str] = None  # the pyproject.toml, None when there is none
    values: Dict[str, object] = field(default_factory=dict)

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path) if self.path else os.getcwd()

    def get(self, key: str, default=None):
        return self.values.get(key, default)

    @property
    def per_file_ignores(self) -> List[Tuple[str, List[str]]]:
        return list(self.values.get("per-file-ignores", {}).items())


def _read(path: str) -> Optional[dict]:
    """Our table: a pyproject.toml's [tool.kerasmode-lint] (None if absent),
    or the whole of a kerasmode-lint.toml."""
    try:
        with open(path, "rb") as handle:
            data = _toml().load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if os.path.basename(path) != "pyproject.toml":
        return data
    tool = data.get("tool", {})
    section = tool.get(SECTION) if isinstance(tool, dict) else None
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    return section


def _validate(path: str, section: dict) -> Dict[str, object]:
    where = f"{path}: [tool.{SECTION}]" if os.path.basename(path) == "pyproject.toml" else path
    for key, value in section.items():
        if key not in KEYS:
            raise ConfigError(f"{where} unknown key {key!r} (valid keys: {', '.join(KEYS)})")
        if key in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where} {key} must be a list of strings")
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where} {key} must be true or false")
        elif key == "keras-version":
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise ConfigError(f"{where} keras-version must be a string such as \"3\" or \"3.16\"")
        elif key == "keras-backend":
            try:
                parse_keras_backend(value)
            except ValueError as exc:
                raise ConfigError(f"{where} {exc}") from None
        elif key == "python":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where} python must be the path of an interpreter or environment folder")
        elif key == "jobs":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{where} jobs must be 0 (all cores) or more")
        elif key == "documentation-url":
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise ConfigError(f"{where} documentation-url must be an http(s) URL")
        elif key == "cache-dir":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where} cache-dir must be a folder name")
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()
            ):
                raise ConfigError(f"{where} per-file-ignores must map globs to lists of codes")
    values = dict(section)
    if "keras-version" in values:
        values["keras-version"] = str(values["keras-version"])
    return values


def find_config(start: str, known: Optional[Dict[str, Optional[str]]] = None) -> Optional[str]:
    """Nearest config from ``start`` (a file or folder) upwards. ``known``
    (folder -> its config) remembers every folder on the way, so the files
    of one tree cost one look per folder (one run's Resolver keeps one)."""
    directory = os.path.abspath(start)
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    known = {} if known is None else known
    walked = []
    found: Optional[str] = None
    while True:  # a loop, not recursion: folders nest deeper than the recursion limit
        if directory in known:
            found = known[directory]
            break
        walked.append(directory)
        found = next((c for c in (os.path.join(directory, n) for n in CONFIG_NAMES)
                      if os.path.isfile(c) and _read(c) is not None), None)
        parent = os.path.dirname(directory)
        if found is not None or parent == directory:
            break
        directory = parent
    for folder in walked:
        known[folder] = found
    return found


def load_config(path: Optional[str]) -> Config:
    if path is None:
        return Config()
    section = _read(path)
    return Config(path, _validate(path, section or {}))


def config_for(start: str, explicit: Optional[str] = None) -> Config:
    """The config that governs ``start`` (a path argument): ``--config`` if
    given, else the nearest one up from it, else the nearest up from cwd."""
    if explicit is not None:
        if not os.path.isfile(explicit):
            raise ConfigError(f"{explicit}: config file not found")
        return load_config(explicit)
    found = find_config(start) if os.path.exists(start) else None
    if found is None:
        found = find_config(os.getcwd())
    return load_config(found)
