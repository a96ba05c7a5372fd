"""The settings one file is linted with, and what linting it gives: plain data,
importable without libcst, so that a run served from the cache never loads it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import FrozenSet, List

from .diagnostics import Diagnostic


def _all_rule_codes() -> FrozenSet[str]:
    from .triggers import TRIGGERS

    return frozenset(TRIGGERS)


@dataclass(frozen=True)
class LintOptions:
    """Settings that matter for linting one file (already resolved). Every
    field is part of the cache key (runner.options_key)."""

    enabled: FrozenSet[str] = field(default_factory=_all_rule_codes)
    keras_version: str = "auto"
    keras_version_origin: str = "--keras-version"
    disable_noqa: bool = False


@dataclass
class FileResult:
    path: str
    diagnostics: List[Diagnostic] = field(default_factory=list)
    internal_error: bool = False
