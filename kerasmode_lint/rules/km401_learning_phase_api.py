"""KM401 learning-phase-api (docs/semantics.md R16).

``keras.backend.set_learning_phase``, ``learning_phase()`` and
``learning_phase_scope`` (also through ``tf.keras.backend``,
``tf.compat.v1.keras.backend``, ``from … import`` and aliases) were removed
in Keras 3: every use raises AttributeError (ImportError for a from-import).
In Keras 2 they are deprecated and only reach calls that get no other
``training`` value (a standalone ``model(x)``); ``fit``, ``evaluate`` and
``predict`` pass ``training`` themselves and ignore them. The fix is
``training=`` on the call.

Precision: only the public ``keras.backend`` spellings are matched (library
modules that *implement* the API through private paths such as
``tf_keras.src.backend`` are not uses), a file that defines a module-level
function of one of these names is treated as such an implementation and
skipped, and uses guarded for Keras 3 (inside ``try`` with an
``except AttributeError/ImportError/Exception`` or bare ``except``, or under
an ``if`` that tests ``hasattr(…, "…learning_phase…")`` or a version) are
left alone. Methods of other objects that happen to share the name
(``self.set_learning_phase(…)``) never resolve to Keras and are not flagged.

Fix (unsafe): remove a ``set_learning_phase(0)`` / ``(False)`` statement (its
line, or ``pass`` when it is alone in its block): inference is already the
default of a call without ``training``. No fix for ``set_learning_phase(1)``,
``learning_phase()`` or ``learning_phase_scope``: the intended mode has to be
passed as ``training=`` to calls the linter cannot pick out.
"""
from __future__ import annotations

import re

from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from ..engine.fixes import Fix, remove_lines, replace, replace_range, start_of
from ..analysis.names import canonical, dotted
from ..analysis.file_kinds import KERAS_ITSELF
from ..engine.rule import Rule
from ..engine.versions import ALL

_API = frozenset({"set_learning_phase", "learning_phase", "learning_phase_scope"})
_QUALIFIED = frozenset(f"keras.backend.{name}" for name in _API)
_HANDLED = frozenset(
    {"AttributeError", "ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
)


class LearningPhaseApi(Rule):
    code = "KM401"
    name = "learning-phase-api"
    summary = (
        "`set_learning_phase` / `learning_phase()` / `learning_phase_scope` is removed in "
        "Keras 3 (AttributeError) and ignored by fit/evaluate/predict in Keras 2: pass `training=`"
    )
    versions = ALL
    quiet_in = frozenset({KERAS_ITSELF})
    fix_safety = "unsafe"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.guards: List[bool] = []  # one entry per enclosing try/if: does it guard?
        self.attribute_parts: Set[int] = set()
        self.candidates: List[cst.CSTNode] = []
        self.implements = False
        self.blocks: List[int] = []  # statements in each enclosing block
        # id(func) of a call that is a whole statement -> (its line, alone in its block?)
        self.statements: Dict[int, Tuple[cst.SimpleStatementLine, bool]] = {}
        self._honoured: Optional[bool] = None
        # Keras 2: a phase set (or scoped) is ignored only by the fit/evaluate/
        # predict calls that come after it; the calls seen so far, and the
        # uses waiting for one
        self.entry_points = 0
        self.waiting: List[Tuple[cst.CSTNode, str, bool, int]] = []

    def _phase_honoured(self) -> bool:
        """Keras 2 code whose phase reads are honoured (no fit/evaluate/predict,
        or a TF1 graph): two searches of the file, made once per file."""
        if self._honoured is None:
            source = self.context.source
            self._honoured = not _ENTRY_POINT.search(source) or _TF1_GRAPH.search(source) is not None
        return self._honoured

    # -- the implementing module ----------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value in _API:
                self.implements = True

    # -- statements (for the fix) -----------------------------------------------
    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks.append(len(node.body))

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) == 1 and isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, cst.Call):
            alone = (self.blocks[-1] if self.blocks else len(self.context.module.body)) == 1
            self.statements[id(node.body[0].value.func)] = (node, alone)

    # -- guards ---------------------------------------------------------------
    def visit_Try(self, node: cst.Try) -> None:
        self.guards.append(any(_catches(h) for h in node.handlers))

    def leave_Try(self, node: cst.Try) -> None:
        self.guards.pop()

    def visit_If(self, node: cst.If) -> None:
        self.guards.append(_is_guard_test(self.context.module.code_for_node(node.test)))

    def leave_If(self, node: cst.If) -> None:
        self.guards.pop()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self.guards.append(_is_guard_test(self.context.module.code_for_node(node.test)))

    def leave_IfExp(self, node: cst.IfExp) -> None:
        self.guards.pop()

    # -- uses -------------------------------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = canonical(dotted(node.module) or "")
        for alias in node.names:
            name = dotted(alias.name)
            if f"{module}.{name}" in _QUALIFIED:
                self._use(alias, name, imported=True)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) in self.attribute_parts:
            return
        self.attribute_parts.add(id(node.value))
        qualified = self.resolve(node)
        if qualified in _QUALIFIED:
            self._use(node, node.attr.value)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _ENTRY_POINT_NAMES:
            self.entry_points += 1
        if isinstance(node.func, cst.Name) and self.resolve(node.func) in _QUALIFIED:
            self._use(node.func, self.resolve(node.func).rsplit(".", 1)[1])

    def _use(self, node: cst.CSTNode, name: str, imported: bool = False) -> None:
        if self.implements or any(self.guards):
            return
        if self.context.keras_version.is_keras2 and self._phase_honoured():
            # Keras 2 without fit/evaluate/predict in the file: the phase is
            # honoured (a TF1 graph built for export, K.function, a bare call).
            # In TF1 graph code (sessions, placeholders) fit and predict feed
            # the phase themselves, so reading it is how layers learn the mode.
            return
        if self.context.keras_version.is_keras2 and name != "learning_phase":
            # Keras 2 honours the phase in the bare calls after it; only a
            # fit/evaluate/predict after it ignores it (decided at the end)
            self.waiting.append((node, name, imported, self.entry_points))
            return
        self.report(node, self._brief(name, imported), explanation=self._message(name, imported),
                    fix=self._fix(node, name))

    def leave_Module(self, node: cst.Module) -> None:
        for use, name, imported, seen_before in self.waiting:
            if self.entry_points > seen_before:
                self.report(use, self._brief(name, imported), explanation=self._message(name, imported),
                            fix=self._fix(use, name))

    def _brief(self, name: str, imported: bool) -> str:
        if self.context.keras_version.is_keras2 and name == "learning_phase":
            return "`learning_phase` is deprecated and fit/evaluate/predict never read it; use `training`"
        if self.context.keras_version.is_keras2:
            return f"`{name}` is deprecated and fit/evaluate/predict ignore it; pass `training=` instead"
        error = "ImportError" if imported else "AttributeError"
        return f"`{name}` was removed in Keras 3 ({error}); pass `training=` to the call instead"

    def _fix(self, func: cst.CSTNode, name: str) -> Optional[Fix]:
        statement = self.statements.get(id(func))
        if name != "set_learning_phase" or statement is None:
            return None
        line, alone = statement
        return _remove_inference_phase(line, alone)

    def _message(self, name: str, imported: bool) -> str:
        if self.context.keras_version.is_keras2 and name == "learning_phase":
            return (
                "`learning_phase` is deprecated in Keras 2: it returns the global phase (0 unless "
                "`set_learning_phase` changed it), which fit(), evaluate() and predict() never "
                "consult since they pass `training` themselves; Keras 3 removed it "
                "(AttributeError). Use the `training` argument of the call instead."
            )
        if self.context.keras_version.is_keras2:
            return (
                f"`{name}` is deprecated in Keras 2 and does not do what it seems: it only "
                "reaches layer calls that get no `training` value otherwise (a standalone "
                "`model(x)`); fit(), evaluate() and predict() pass `training` themselves and "
                f"ignore it, and in Keras 3 it is gone (AttributeError). Pass `training=` to "
                "the call instead, e.g. `model(x, training=True)`."
            )
        error = "ImportError" if imported else "AttributeError"
        return (
            f"`{name}` was removed in Keras 3: this raises {error} (also through tf.keras and "
            "tf.compat.v1.keras). Pass `training=` to the call instead, e.g. "
            "`model(x, training=True)` for dropout at inference, or `training=False`."
        )


def _remove_inference_phase(line: cst.SimpleStatementLine, alone: bool) -> Optional[Fix]:
    """Remove ``set_learning_phase(0)`` (or ``False``): its line, or its code
    when a comment follows it on the line, or ``pass`` in a block it is alone in."""
    call = line.body[0].value
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    value = call.args[0].value
    inference = (isinstance(value, cst.Integer) and value.value == "0") or (
        isinstance(value, cst.Name) and value.value == "False")
    if not inference:
        return None  # set_learning_phase(1): meant training mode for some calls
    comment = line.trailing_whitespace.comment
    if alone:
        edit = replace(line.body[0], "pass")
    elif comment is not None:
        edit = replace_range(start_of(line), start_of(comment), "")
    else:
        edit = remove_lines(line)
    return Fix.unsafe("Remove `set_learning_phase(0)`", [edit])


# The Keras entry points that pass `training` themselves, ignoring the phase.
_ENTRY_POINT_NAMES = frozenset({
    "fit", "fit_generator", "evaluate", "evaluate_generator", "predict", "predict_generator",
    "train_on_batch", "test_on_batch", "predict_on_batch"})
_ENTRY_POINT = re.compile(
    r"\.(?:fit|fit_generator|evaluate|evaluate_generator|predict|predict_generator"
    r"|train_on_batch|test_on_batch|predict_on_batch)\s*\("
)


# TensorFlow 1 graph-mode code: sessions, placeholders, contrib, v1 behaviour.
_TF1_GRAPH = re.compile(
    r"\b(?:tf|v1)\.(?:Session|InteractiveSession|placeholder|contrib|enable_eager_execution)\b"
    r"|\bdisable_(?:eager_execution|v2_behavior)\s*\("
)


def _catches(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    for item in types:
        node = item.value if isinstance(item, cst.Element) else item
        name = dotted(node)
        if name is not None and name.rsplit(".", 1)[-1] in _HANDLED:
            return True
    return False


def _is_guard_test(text: str) -> bool:
    lowered = text.lower()
    return ("hasattr" in lowered and "learning_phase" in lowered) or "version" in lowered
