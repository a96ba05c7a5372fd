"""One resolution of the settings a file is linted with, for every entry point.

The command line (over folders, over file names as pre-commit passes them,
over stdin with ``--stdin-filename``), ``--show-settings`` and the flake8
plugin all ask a ``Resolver`` for a path (and, when they have it, the text)
and get the same answer:

* the config governing the file (the nearest one above it, ``--config``,
  or none with ``--isolated``) merged with what the caller overrides;
* what the environment says, resolved once here so that it is part of the
  cache key: the project's Keras decision (its interpreter environment, its
  pins, TF_USE_LEGACY_KERAS) and the backend outside the code
  ($KERAS_BACKEND, keras.json);
* with the file's bytes, the final Keras version and backend, by the same
  function the engine calls (``decide``), so the two cannot disagree.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

from . import backends, versions
from .backends import ResolvedBackend, environment_backend, parse_keras_backend, resolve_backend
from .config import Config, ConfigError, find_config, load_config
from .discovery import DEFAULT_EXCLUDES, validate_globs
from .options import LintOptions
from .selection import check_selectors, resolve_selection
from .versions import ResolvedVersion, parse_keras_version, project_version, resolve_version


class SettingsError(Exception):
    """A setting that cannot be used (one line, exit 2)."""


@dataclass(frozen=True)
class Overrides:
    """What the caller sets over the config (None: not set)."""

    select: Optional[Sequence[str]] = None
    extend_select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    extend_ignore: Sequence[str] = ()
    per_file_ignores: Sequence[Tuple[str, Sequence[str]]] = ()  # (glob, codes), added to the config's
    keras_version: Optional[str] = None
    keras_backend: Optional[str] = None
    python: Optional[str] = None
    disable_noqa: bool = False
    exclude: Optional[Sequence[str]] = None
    extend_exclude: Sequence[str] = ()
    force_exclude: Optional[bool] = None
    respect_gitignore: Optional[bool] = None
    config: Optional[str] = None   # --config: this file for every path
    isolated: bool = False         # --isolated: no config at all
    origin: str = ""               # how the caller is named in reasons ("" = the command line)


@dataclass
class Plan:
    """Resolved settings for the files under one config."""

    config: Config
    options: LintOptions  # before per-file-ignores and the environment's answers
    per_file_ignores: List[Tuple[str, frozenset]]
    exclude: Sequence[str]
    extend_exclude: Sequence[str]
    force_exclude: bool
    respect_gitignore: bool
    python: Optional[str] = None  # the project's interpreter or environment, as set
    documentation_url: Optional[str] = None  # None: the package's own, if any


@dataclass(frozen=True)
class FileSettings:
    path: str
    plan: Plan
    options: LintOptions          # complete: what the engine and the cache key get
    version: Optional[ResolvedVersion] = None  # with the file's bytes only
    backend: Optional[ResolvedBackend] = None


def decide(path: Optional[str], data: bytes, options: LintOptions) -> Tuple[ResolvedVersion, ResolvedBackend]:
    """The Keras version and backend ``data`` is linted with: what the engine
    uses and ``--show-settings`` prints. Raises ValueError for a setting
    that cannot be used."""
    project = options.project_keras
    if project is None:
        decision: "Optional[ResolvedVersion] | str" = "look"
    elif project[0]:
        decision = ResolvedVersion(parse_keras_version(project[0]), project[1])
    else:
        decision = None
    version = resolve_version(options.keras_version, None if path in (None, "-") else path, data,
                              setting_origin=options.keras_version_origin, project=decision,
                              python=options.python)
    environment = None
    if options.environment_backend is not None:
        environment = ResolvedBackend(*options.environment_backend)
    backend = resolve_backend(options.keras_backend, data, setting_origin=options.keras_backend_origin,
                              environment=environment)
    return version, backend


def _matches(pattern: str, path: str, base: str) -> bool:
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, base)
    return any(fnmatch.fnmatch(c, pattern) for c in (relative, os.path.basename(path), absolute))


class Resolver:
    """Settings per file, cached per folder, config and project."""

    def __init__(self, overrides: Overrides = Overrides()) -> None:
        self.overrides = overrides
        # A new resolution reads the files afresh (a long-lived process, an
        # editor server, sees edits to pins and keras.json between runs).
        versions.clear_caches()
        backends.clear_caches()
        self._configs: Dict[str, Optional[str]] = {}
        self._plans: Dict[Optional[str], Plan] = {}
        self._projects: Dict[Tuple[str, Optional[str]], Tuple[str, str]] = {}
        self._environment: Optional[Tuple[str, str, bool]] = None
        self._forced: Optional[Config] = None
        if overrides.config is not None and not overrides.isolated:
            if not os.path.isfile(overrides.config):
                raise ConfigError(f"{overrides.config}: config file not found")
            self._forced = load_config(overrides.config)

    # --- configs and plans -------------------------------------------------

    def config_for(self, path: str) -> Config:
        if self.overrides.isolated:
            return Config()
        if self._forced is not None:
            return self._forced
        return load_config(find_config(path, self._configs))

    def run_config(self) -> Config:
        """Where run-level settings (cache-dir, jobs) come from: the config
        nearest the working folder (or the forced one, or none)."""
        return self.config_for(os.path.join(os.getcwd(), "_"))

    def plans(self) -> List[Plan]:
        """The plans made so far (one per config met)."""
        return list(self._plans.values())

    def plan_for(self, path: str) -> Plan:
        config = self.config_for(path)
        plan = self._plans.get(config.path)
        if plan is None:
            plan = self._plans[config.path] = self._make_plan(config)
        return plan

    def _make_plan(self, config: Config) -> Plan:
        o = self.overrides
        where = config.path or "command line"
        cli = o.origin or "--"
        if not o.origin:  # the command line: an unknown code names its option
            for option in ("select", "extend_select", "ignore", "extend_ignore"):
                check_selectors(getattr(o, option) or [], "--" + option.replace("_", "-"))
        ignore = list(o.ignore or []) + list(o.extend_ignore or [])
        if o.select is not None:
            enabled = resolve_selection(o.select, ignore, o.extend_select)
        else:
            base = resolve_selection(config.get("select"),
                                     list(config.get("ignore", [])) + list(config.get("extend-ignore", [])),
                                     config.get("extend-select", []), where=where)
            added = resolve_selection([], [], o.extend_select)
            removed = resolve_selection(ignore, [], []) if ignore else frozenset()
            enabled = (base | added) - removed
        setting, origin = self._setting(o.keras_version, config, "keras-version", cli)
        if setting.strip().lower() != "auto":
            try:
                parse_keras_version(setting)
            except ValueError as exc:
                raise SettingsError(f"{origin}: {exc}") from None
        backend, backend_origin = self._setting(o.keras_backend, config, "keras-backend", cli)
        try:
            backend = parse_keras_backend(backend)
        except ValueError as exc:
            raise SettingsError(f"{backend_origin}: {exc}") from None
        python = o.python
        if python is None and config.get("python") is not None:
            python = os.path.join(config.directory, os.path.expanduser(str(config.get("python"))))
        per_file = [(pattern, resolve_selection(codes, [], [], where=f"per-file-ignores in {where}"))
                    for pattern, codes in config.per_file_ignores]
        for pattern, codes in o.per_file_ignores:
            check_selectors(codes, "--per-file-ignores")
            per_file.append((pattern, resolve_selection(codes, [], [])))
        exclude = o.exclude if o.exclude is not None else config.get("exclude", DEFAULT_EXCLUDES)
        extend = list(config.get("extend-exclude", [])) + list(o.extend_exclude)
        for key, globs in (("exclude", exclude), ("extend-exclude", extend),
                           ("per-file-ignores", [p for p, _ in per_file])):
            try:
                validate_globs(g for g in globs if g not in DEFAULT_EXCLUDES)  # ours are known to be good
            except ValueError as exc:
                raise SettingsError(f"{where}: {key}: {exc}") from None
        options = LintOptions(enabled=enabled, keras_version=setting, keras_version_origin=origin,
                              disable_noqa=o.disable_noqa, keras_backend=backend,
                              keras_backend_origin=backend_origin, python=python)
        return Plan(
            config=config, options=options, per_file_ignores=per_file, exclude=exclude, extend_exclude=extend,
            force_exclude=bool(o.force_exclude if o.force_exclude is not None else config.get("force-exclude", False)),
            respect_gitignore=bool(o.respect_gitignore if o.respect_gitignore is not None
                                   else config.get("respect-gitignore", True)),
            python=python,
            documentation_url=config.get("documentation-url"),
        )

    @staticmethod
    def _setting(value: Optional[str], config: Config, key: str, cli: str) -> Tuple[str, str]:
        if value is not None:
            return value, (f"--{key}" if cli == "--" else f"--{key} ({cli})")
        return str(config.get(key, "auto")), f"{key} in {config.path}"

    # --- per file ------------------------------------------------------------

    def options_for(self, path: str) -> LintOptions:
        """Everything the lint of ``path`` depends on besides its bytes."""
        plan = self.plan_for(path)
        ignored = frozenset().union(*(
            codes for pattern, codes in plan.per_file_ignores if _matches(pattern, path, plan.config.directory)
        ))
        options = plan.options
        if ignored:
            options = replace(options, enabled=options.enabled - ignored)
        if options.keras_version.strip().lower() == "auto":
            options = replace(options, project_keras=self._project(path, plan.python))
        if options.keras_backend == "auto":
            options = replace(options, environment_backend=self._environment_backend())
        return options

    def settings_for(self, path: str, data: Optional[bytes] = None) -> FileSettings:
        """``options_for`` and, given the file's bytes (a notebook's code
        cells for a notebook, as the engine sees them), the decisions."""
        options = self.options_for(path)
        if data is None:
            return FileSettings(path, self.plan_for(path), options)
        try:
            version, backend = decide(path, data, options)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return FileSettings(path, self.plan_for(path), options, version, backend)

    def _project(self, path: str, python: Optional[str]) -> Tuple[str, str]:
        folder = os.path.dirname(os.path.abspath(path)) if path not in ("-", "") else os.getcwd()
        key = (folder, python)
        found = self._projects.get(key)
        if found is None:
            resolved = project_version(os.path.join(folder, "_"), python=python)
            found = self._projects[key] = (str(resolved.version), resolved.reason) if resolved else ("", "")
        return found

    def _environment_backend(self) -> Tuple[str, str, bool]:
        if self._environment is None:
            try:
                found = environment_backend()
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
            self._environment = (found.backend, found.reason, found.from_variable)
        return self._environment


__all__ = ["Overrides", "Plan", "FileSettings", "Resolver", "SettingsError", "decide"]
