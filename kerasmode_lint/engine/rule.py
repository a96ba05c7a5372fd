"""The base class every rule derives from.

A rule is one module holding one subclass of ``Rule``: its code, name, the
Keras versions it applies to, a one-line summary, and ``visit_<NodeType>`` / ``leave_<NodeType>`` methods named after
libcst node classes. All rules share one walk of the tree. The byte strings
that must occur in a file for a rule to possibly match (so files that cannot
match are never parsed) are its entry in triggers.py, the one table the
prefilter, selection and cached runs read without importing the rules.

A finding's message is one sentence of at most 120 characters: what is
wrong, and the fix. A rule with more to say (why, which layers, which Keras
versions) passes it as ``explanation``, which ``--output-format full`` and
JSON print under the message.

A rule that can repair what it reports passes a ``Fix`` (see fixes.py) to
``report`` and declares ``fix_safety`` ("safe", "unsafe" or "sometimes"), which
its page explains under "## Fix safety".
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, FrozenSet, List, Optional, Tuple

import libcst as cst

if TYPE_CHECKING:  # pragma: no cover
    from .context import FileContext
    from .fixes import Fix
    from .screens import Screen
    from .versions import VersionSet


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    versions: ClassVar["VersionSet"]
    # A file is parsed for this rule only if it contains one of these (an
    # entry may be a tuple of words that must all occur, or a screen from
    # screens.py); set from triggers.TRIGGERS[code], see prefilter.py.
    triggers: ClassVar[Tuple["bytes | Tuple[bytes, ...] | Screen", ...]]
    # Keras 3 backends the rule applies to (see backends.py); None: every backend.
    backends: ClassVar[Optional[FrozenSet[str]]] = None
    # Kinds of file (file_kinds.py: "keras-itself", "test") where what the rule
    # looks for is deliberate, so it does not run there.
    quiet_in: ClassVar[FrozenSet[str]] = frozenset()
    # None: the rule never offers a fix; else "safe", "unsafe" or "sometimes".
    fix_safety: ClassVar[Optional[str]] = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None or "triggers" in cls.__dict__:
            return  # a shared base, or a test probe that brings its own
        from .triggers import TRIGGERS

        if code not in TRIGGERS:
            raise TypeError(f"rule {code} has no triggers: add its entry to kerasmode_lint/engine/triggers.py")
        cls.triggers = TRIGGERS[code]

    def __init__(self, context: "FileContext") -> None:
        self.context = context
        self.reports: List[Tuple[cst.CSTNode, str, Optional["Fix"], str]] = []

    def report(self, node: cst.CSTNode, message: Optional[str] = None, *, fix: Optional["Fix"] = None,
               explanation: str = "") -> None:
        self.reports.append((node, message or self.summary, fix, explanation))

    def code_for(self, node: cst.CSTNode) -> str:
        """The source text of ``node`` (e.g. to build a fix's replacement)."""
        return self.context.module.code_for_node(node)

    # Shortcuts the rules use all the time.
    def resolve(self, node: cst.CSTNode) -> Optional[str]:
        return self.context.imports.resolve(node)
