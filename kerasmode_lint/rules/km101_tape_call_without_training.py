"""KM101 tape-call-without-training (docs/semantics.md R15).

A model called inside ``with tf.GradientTape() as tape:`` without
``training=``, in a step that takes gradients with respect to that model's
trainable variables and applies them with an optimizer, runs with
``training=None``: its Dropout does not drop and its BatchNormalization uses,
and never updates, its moving statistics, in Keras 2 and 3 alike.

Precision: only calls of models whose variables the same scope trains are
flagged (Grad-CAM, saliency, FGSM and style transfer take gradients with
respect to inputs or images and are left alone), any explicit ``training=``
silences it, and a model built in the file from layers with no training
behaviour (Dense/Conv only) is not flagged. ``self(...)``/``self.x(...)``
inside ``train_step`` belong to KM102.

Fix (unsafe): add ``training=True``. It changes what the model computes (that
is the point), and the callee may be a plain callable without a ``training``
parameter, so it is never applied without ``--unsafe-fixes``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from ..engine.fixes import Fix, insert_after
from ..analysis.keras_knowledge import Tri
from ..analysis.names import dotted
from ..engine.rule import Rule
from ._effects import inference_brief, inference_effect, unpinned
from ._evidence import rules_out_mode_layers
from ..analysis.subclasses import is_plain_tf_module, passes_training
from ..engine.versions import ALL, KERAS3_TO_315

_TAPE = "tensorflow.GradientTape"
_VARIABLES = frozenset({"trainable_variables", "trainable_weights"})
_APPLY = frozenset({"apply_gradients", "minimize"})
# Keras 2: a call without `training=` takes the global learning phase, so
# after `set_learning_phase(1)` it runs in training mode (KM401 reports the API).
_PHASE_ONE = re.compile(r"\bset_learning_phase\(\s*(?:1|True)\s*\)")


@dataclass
class _Scope:
    """What one function (or the module body) does with tapes."""

    function: str = ""
    tapes: Set[str] = field(default_factory=set)
    calls: List[Tuple[cst.Call, str]] = field(default_factory=list)  # inside a tape
    sources: List[cst.CSTNode] = field(default_factory=list)  # tape.gradient(_, sources)
    applied: bool = False
    assignments: Dict[str, cst.CSTNode] = field(default_factory=dict)


class TapeCallWithoutTraining(Rule):
    code = "KM101"
    name = "tape-call-without-training"
    summary = (
        "Model called inside a GradientTape without `training=` while its "
        "variables are trained: Dropout and BatchNormalization run in inference mode"
    )
    versions = ALL
    fix_safety = "unsafe"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.scopes: List[_Scope] = [_Scope()]
        self.open_tapes = 0
        self._phase_one_set: Optional[bool] = None

    # -- scopes ---------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(_Scope(function=node.name.value))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._check(self.scopes.pop())

    def leave_Module(self, node: cst.Module) -> None:
        self._check(self.scopes[0])

    # -- facts ----------------------------------------------------------------
    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if self._is_tape(item.item):
                self.open_tapes += 1
                if item.asname is not None and isinstance(item.asname.name, cst.Name):
                    self.scopes[-1].tapes.add(item.asname.name.value)

    def leave_With(self, node: cst.With) -> None:
        self.open_tapes -= sum(1 for item in node.items if self._is_tape(item.item))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.scopes[-1].assignments[target.target.value] = node.value

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.scopes[-1]
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr == "gradient" and isinstance(func.value, cst.Name) and func.value.value in scope.tapes:
                sources = _argument(node, 1, "sources")
                if sources is not None:
                    scope.sources.append(sources)
            elif attr in _APPLY or (attr == "apply" and "opt" in (dotted(func.value) or "").lower()):
                scope.applied = True
        if self.open_tapes:
            callee = dotted(func)
            if callee is not None:
                scope.calls.append((node, callee))

    # -- verdict --------------------------------------------------------------
    def _check(self, scope: _Scope) -> None:
        if not scope.calls or not scope.sources or not scope.applied:
            return
        if self.context.keras_version.is_keras2 and self._phase_one():
            return
        trained: Set[str] = set()
        for sources in scope.sources:
            trained |= self._models_of(sources, scope, depth=0)
        for call, callee in scope.calls:
            if callee not in trained or passes_training(call):
                continue
            if scope.function == "train_step" and (callee == "self" or callee.startswith("self.")):
                continue  # KM102's ground
            if self._is_plain_module(callee, scope):
                continue  # a tf.Module: Keras's training mode does not reach it
            contents = self.context.models.contents_of_name(callee, at=call)
            if contents.any is Tri.UNKNOWN and callee not in scope.assignments:
                # A parameter (``train_step(model, ...)``): what the module's
                # calls of the function pass, else the file's models of that name.
                passed = self.context.models.contents_of_parameter(callee, call)
                contents = passed if passed is not None else self.context.models.contents_of_name(callee)
            contents = unpinned(contents, self.context.keras_version, outer_passes_none=True)
            if contents.any is Tri.NO:
                continue  # nothing in it behaves differently in training (or its nodes pin their mode)
            if contents.none_means_training:
                continue  # its layers train when `training` is None (`training is not False`)
            if contents.any is Tri.UNKNOWN and self._built_here(callee, scope) and rules_out_mode_layers(self.context):
                continue  # built in a file that has no mode-dependent layer at all
            self.report(
                call,
                f"`{callee}` runs in inference mode while trained ({inference_brief(contents)}); "
                "pass `training=True`",
                fix=_add_training_true(call),
                explanation=f"`{callee}` is called inside a GradientTape without `training=` while its "
                f"weights are trained, so it runs in inference mode: {inference_effect(contents)}. "
                "Pass `training=True`.",
            )

    def _phase_one(self) -> bool:
        """Does the file call ``set_learning_phase(1)``? Searched once per
        file, not once per function with a tape."""
        if self._phase_one_set is None:
            self._phase_one_set = _PHASE_ONE.search(self.context.source) is not None
        return self._phase_one_set

    def _built_here(self, callee: str, scope: _Scope) -> bool:
        """Bound by an assignment in this file (not a parameter from a caller)."""
        return callee in scope.assignments or callee in self.scopes[0].assignments

    def _is_plain_module(self, callee: str, scope: _Scope) -> bool:
        value = scope.assignments.get(callee) or self.scopes[0].assignments.get(callee)
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Name):
            return False
        classes = self.context.models.index.classes
        cls = classes.get(value.func.value)
        return cls is not None and is_plain_tf_module(cls, self.context.imports, classes)

    def _models_of(self, node: cst.CSTNode, scope: _Scope, depth: int) -> Set[str]:
        """Models whose ``trainable_variables`` make up a gradient's sources."""
        if depth > 4:
            return set()
        if isinstance(node, cst.Attribute) and node.attr.value in _VARIABLES:
            owner = dotted(node.value)
            return {owner} if owner else set()
        if isinstance(node, cst.BinaryOperation):
            return self._models_of(node.left, scope, depth + 1) | self._models_of(node.right, scope, depth + 1)
        if isinstance(node, (cst.List, cst.Tuple)):
            found: Set[str] = set()
            for element in node.elements:
                found |= self._models_of(element.value, scope, depth + 1)
            return found
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("list", "tuple") and node.args:
            return self._models_of(node.args[0].value, scope, depth + 1)
        if isinstance(node, cst.Name):
            value = scope.assignments.get(node.value) or self.scopes[0].assignments.get(node.value)
            if value is not None:
                return self._models_of(value, scope, depth + 1)
        return set()

    def _is_tape(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Call) and self.resolve(node.func) == _TAPE


def _argument(call: cst.Call, position: int, keyword: str) -> Optional[cst.CSTNode]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[position].value if len(positional) > position else None


def _add_training_true(call: cst.Call) -> Fix:
    if call.args:  # after the last argument, before any trailing comma
        edit = insert_after(call.args[-1], ", training=True")
    else:  # right after "("
        edit = insert_after(call.whitespace_before_args, "training=True")
    return Fix.unsafe("Pass `training=True`", [edit])
