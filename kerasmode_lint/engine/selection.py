"""Turning ``--select``/``--ignore``/``--extend-select`` into enabled codes.

Selectors are codes or prefixes (``KM1`` = every KM1xx rule, ``ALL``), as in
ruff. A code matched by both a select and an ignore selector follows the more
specific (longer) one; on a tie, ignore wins.
"""
from __future__ import annotations

from typing import FrozenSet, Iterable, Optional, Sequence


class SelectionError(ValueError):
    pass


def all_codes() -> Sequence[str]:
    # The light index, not the rule classes: checking a selection must not
    # load libcst (a run served from the cache never does).
    from .diagnostics import SELECTABLE_ENGINE_CODES
    from .triggers import TRIGGERS

    return list(TRIGGERS) + list(SELECTABLE_ENGINE_CODES)


def _normalise(selectors: Iterable[str], what: str) -> list:
    codes = all_codes()
    out = []
    for raw in selectors:
        selector = raw.strip().upper()
        if not selector:
            continue
        if selector != "ALL" and not any(code.startswith(selector) for code in codes):
            from .diagnostics import ENGINE_CODES

            if selector in ENGINE_CODES:
                continue  # engine codes are always reported; naming them is harmless
            raise SelectionError(
                f"unknown rule code or prefix {raw.strip()!r} in {what} "
                f"(known: {', '.join(codes)}; see --list-rules)"
            )
        out.append("" if selector == "ALL" else selector)
    return out


def resolve_selection(
    select: Optional[Sequence[str]] = None,
    ignore: Sequence[str] = (),
    extend_select: Sequence[str] = (),
    *,
    where: str = "",
) -> FrozenSet[str]:
    suffix = f" ({where})" if where else ""
    chosen = _normalise(["ALL"] if select is None else select, "select" + suffix)
    chosen += _normalise(extend_select, "extend-select" + suffix)
    dropped = _normalise(ignore, "ignore" + suffix)
    enabled = set()
    for code in all_codes():
        best_select = max((len(s) for s in chosen if code.startswith(s)), default=-1)
        best_ignore = max((len(s) for s in dropped if code.startswith(s)), default=-1)
        if best_select > best_ignore:
            enabled.add(code)
    return frozenset(enabled)


def split_codes(value: str) -> list:
    """``"KM101,KM2"`` -> ``["KM101", "KM2"]`` for comma-separated CLI values."""
    return [part for part in (p.strip() for p in value.split(",")) if part]


def check_selectors(selectors: Sequence[str], option: str) -> None:
    """Raise SelectionError naming ``option`` (``--ignore``) for an unknown code."""
    _normalise(selectors, option)


def split_per_file_ignores(value: str) -> list:
    """flake8's ``--per-file-ignores`` value, ``"tests/*.py:KM101,KM2 nb/*:KM3"``
    -> ``[("tests/*.py", ["KM101", "KM2"]), ("nb/*", ["KM3"])]``."""
    pairs = []
    for item in value.split():
        pattern, sep, codes = item.rpartition(":")
        if not sep or not pattern or not split_codes(codes):
            raise SelectionError(f"--per-file-ignores: expected GLOB:CODES, got {item!r}")
        pairs.append((pattern, split_codes(codes)))
    return pairs
