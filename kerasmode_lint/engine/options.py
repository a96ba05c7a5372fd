"""The settings one file is linted with, and what linting it gives: plain data,
importable without libcst, so that a run served from the cache never loads it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import FrozenSet, List, Optional, Tuple

from .diagnostics import UNUSED_NOQA, Diagnostic


def _all_rule_codes() -> FrozenSet[str]:
    from .triggers import TRIGGERS

    return frozenset(TRIGGERS) | {UNUSED_NOQA}


@dataclass(frozen=True)
class LintOptions:
    """Settings that matter for linting one file (already resolved). Every
    field is part of the cache key (runner.options_key)."""

    enabled: FrozenSet[str] = field(default_factory=_all_rule_codes)
    keras_version: str = "auto"
    keras_version_origin: str = "--keras-version"
    disable_noqa: bool = False
    keras_backend: str = "auto"
    keras_backend_origin: str = "--keras-backend"
    # What the environment says, resolved by the caller (settings.Resolver)
    # so that it is part of the key; None: the engine looks itself.
    project_keras: Optional[Tuple[str, str]] = None  # (version, reason); ("", "") says nothing
    environment_backend: Optional[Tuple[str, str, bool]] = None  # ResolvedBackend's fields
    python: Optional[str] = None  # the project's interpreter or environment (--python)


@dataclass
class FileResult:
    path: str
    diagnostics: List[Diagnostic] = field(default_factory=list)
    internal_error: bool = False
    # Set by --fix, --diff and --add-noqa (autofix.py).
    fixed: int = 0          # fixes applied
    noqa_added: int = 0     # findings silenced by --add-noqa
    diff: str = ""          # unified diff of the changes
    output: Optional[bytes] = None  # the changed file; None when unchanged
    # Other project files the findings were read from: (path, mtime_ns, size)
    # each (project.py); the cache reuses the result only while they are unchanged.
    depends: List[Tuple[str, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    """What to do with each file besides linting it (autofix.py does it)."""

    fix: bool = False       # apply fixes
    unsafe: bool = False    # unsafe ones too
    add_noqa: bool = False  # silence every finding with a noqa comment
    diff: bool = False      # compute the diff of the changes
    write: bool = True      # write changed files (False: --diff, stdin)

    @property
    def changes_files(self) -> bool:
        return self.fix or self.add_noqa
