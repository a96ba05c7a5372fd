"""KM102 train-step-without-training (docs/semantics.md R15).

In an overridden ``train_step``, ``fit()`` only runs the step: the model is
called by the step itself, and ``self(x)`` or ``self.<sub-model>(x)`` without
``training=`` receives ``training=None``. Its Dropout does not drop and its
BatchNormalization normalises with (and never updates) its moving statistics,
in Keras 2 and 3 alike, on every backend.

Precision: a call is reported only when the step trains what it calls: the
model's or sub-model's ``trainable_variables``/``trainable_weights`` appear in
the gradient sources of the tape the call sits in (or, for a step without a
tape, in an optimizer call), or the step trains ``self`` and the sub-model is
one of its layers that contains Dropout/BatchNormalization and is not frozen.
Any explicit ``training=`` (``training=False`` for a frozen teacher, an EMA
model, a target network), ``**kwargs``, calls outside the tape of a
``GradientTape`` step, calls under a test of ``training`` support
(``if self._call_has_training_arg:``, as Keras's own trainers do) and models
built in the file from layers with no training behaviour are left alone.
``self.stateless_call(...)`` (JAX-style steps) is checked like ``self(...)``.

Fix (unsafe): add ``training=True``, where the call passes only its inputs
positionally (a second positional argument may already bind ``training``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Set

import libcst as cst

from ..engine.fixes import Fix, add_argument
from ..analysis.keras_knowledge import Tri
from ..analysis.names import dotted
from ..engine.rule import Rule
from ._effects import inference_brief, inference_effect
from ._evidence import rules_out_mode_layers
from ..analysis.subclasses import ClassContents, ClassInfo, passes_training
from ..engine.versions import ALL
from ..engine.walker import iter_descendants

_TAPE = "tensorflow.GradientTape"
_VARIABLES = frozenset({"trainable_variables", "trainable_weights"})
_APPLY = frozenset({"apply_gradients", "minimize", "stateless_apply"})


@dataclass
class _Call:
    node: cst.Call
    callee: str  # "self" or "self.<attr>"
    tapes: FrozenSet[int]  # the tape blocks it sits in
    guarded: bool


@dataclass
class _Step:
    node: cst.FunctionDef
    cls: cst.ClassDef
    open_tapes: List[List[int]] = field(default_factory=list)
    has_tape: bool = False
    tape_names: Dict[str, int] = field(default_factory=dict)  # name -> latest tape bound to it
    calls: List[_Call] = field(default_factory=list)
    sources: Dict[int, List[cst.CSTNode]] = field(default_factory=dict)  # tape -> gradient sources
    applied: List[cst.CSTNode] = field(default_factory=list)  # optimizer call arguments
    did_apply: bool = False
    assignments: Dict[str, List[cst.CSTNode]] = field(default_factory=dict)
    guards: List[bool] = field(default_factory=list)


class TrainStepWithoutTraining(Rule):
    code = "KM102"
    name = "train-step-without-training"
    summary = (
        "Model called in an overridden `train_step` without `training=True`: during fit() "
        "its Dropout does not drop and its BatchNormalization stays frozen"
    )
    versions = ALL
    fix_safety = "unsafe"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.scopes: List[cst.CSTNode] = []  # enclosing classes and functions
        self.step: Optional[_Step] = None

    # -- scopes -------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self.scopes[-1] if self.scopes else None
        if (
            self.step is None
            and node.name.value == "train_step"
            and isinstance(parent, cst.ClassDef)
            and not _is_plain_class(parent, self.context.models.index.classes)
        ):
            self.step = _Step(node, parent)
        self.scopes.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.pop()
        if self.step is not None and self.step.node is node:
            self._check(self.step)
            self.step = None

    # -- facts inside the step ----------------------------------------------------
    def visit_With(self, node: cst.With) -> None:
        if self.step is None:
            return
        tapes = []
        for item in node.items:
            if isinstance(item.item, cst.Call) and self.resolve(item.item.func) == _TAPE:
                tapes.append(id(item))
                asname = item.asname.name if item.asname is not None else None
                if isinstance(asname, cst.Name):
                    self.step.tape_names[asname.value] = id(item)
        if tapes:
            self.step.has_tape = True
        self.step.open_tapes.append(tapes)

    def leave_With(self, node: cst.With) -> None:
        if self.step is not None:
            self.step.open_tapes.pop()

    def visit_If(self, node: cst.If) -> None:
        if self.step is not None:
            self.step.guards.append(_tests_training(node.test))

    def leave_If(self, node: cst.If) -> None:
        if self.step is not None:
            self.step.guards.pop()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        if self.step is not None:
            self.step.guards.append(_tests_training(node.test))

    def leave_IfExp(self, node: cst.IfExp) -> None:
        if self.step is not None:
            self.step.guards.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.step is None:
            return
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.step.assignments.setdefault(target.target.value, []).append(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        step = self.step
        if step is None:
            return
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            receiver = dotted(func.value) or ""
            if attr == "gradient" and isinstance(func.value, cst.Name):
                sources = _argument(node, 1, "sources")
                tape = step.tape_names.get(func.value.value)
                if sources is not None:
                    step.sources.setdefault(tape or 0, []).append(sources)
            elif attr in _APPLY or (attr == "apply" and "opt" in receiver.lower()):
                step.did_apply = True
                step.applied.extend(arg.value for arg in node.args)
            if attr == "stateless_call" and receiver == "self":
                self._record(node, "self")
                return
        callee = dotted(func)
        if callee == "self" or (callee is not None and callee.startswith("self.") and callee.count(".") == 1):
            self._record(node, callee)

    def _record(self, node: cst.Call, callee: str) -> None:
        step = self.step
        tapes = frozenset(tape for tapes in step.open_tapes for tape in tapes)
        step.calls.append(_Call(node, callee, tapes, any(step.guards)))

    # -- verdict ------------------------------------------------------------------
    def _check(self, step: _Step) -> None:
        if not step.calls or not step.did_apply:
            return  # no optimizer step: nothing is trained here
        all_sources = [s for sources in step.sources.values() for s in sources]
        step_trained = self._owners(all_sources + step.applied, step)
        if not step_trained:
            step_trained = {"self"}  # e.g. a JAX step: stateless_apply on the state's variables
        contents: Optional[ClassContents] = None
        for call in step.calls:
            if call.guarded or passes_training(call.node):
                continue
            if step.has_tape and not call.tapes:
                continue  # outside the tape: not the forward pass being trained
            trained = step_trained
            tape_sources = [s for t in call.tapes for s in step.sources.get(t, [])]
            if tape_sources:
                trained = self._owners(tape_sources, step) or step_trained
            if contents is None:
                contents = ClassContents(ClassInfo.of(step.cls), self.context.models, self.context.imports)
            if not self._is_trained(call.callee, trained, contents):
                continue
            seen = contents.contents_of_callee(call.callee)
            if seen.any is Tri.UNKNOWN and contents.built_here(call.callee) and rules_out_mode_layers(self.context):
                continue  # built in a file that has no mode-dependent layer at all
            self.report(call.node, self._brief(call, seen), explanation=self._message(call, seen),
                        fix=_pass_training_true(call.node))

    def _is_trained(self, callee: str, trained: Set[str], contents: ClassContents) -> bool:
        if callee == "self":
            return "self" in trained and contents.of_self() is not Tri.NO
        attr = callee.split(".", 1)[1]
        if callee in trained:
            return contents.of_attribute(attr) is not Tri.NO
        return (
            "self" in trained
            and attr not in contents.info.frozen
            and contents.of_attribute(attr) is Tri.YES
        )

    def _brief(self, call: _Call, contents) -> str:
        return (
            f"`{_shown(call)}(...)` in `train_step` runs in inference mode "
            f"({inference_brief(contents)}); pass `training=True`"
        )

    def _message(self, call: _Call, contents) -> str:
        shown = _shown(call)
        return (
            f"`{shown}(...)` is called in `train_step` without `training=`: fit() runs this step "
            f"and the call gets training=None, so {inference_effect(contents)} while the weights "
            f"train. Pass `training=True`: `{shown}(..., training=True)`."
        )

    def _owners(self, nodes: List[cst.CSTNode], step: _Step, depth: int = 0) -> Set[str]:
        """Models whose trainable variables appear in these expressions."""
        found: Set[str] = set()
        if depth > 4:
            return found
        for node in nodes:
            for sub in _self_and_descendants(node):
                if isinstance(sub, cst.Attribute) and sub.attr.value in _VARIABLES:
                    owner = dotted(sub.value)
                    if owner:
                        found.add(owner)
                elif isinstance(sub, cst.Name) and sub.value in step.assignments:
                    found |= self._owners(step.assignments[sub.value], step, depth + 1)
        return found


def _pass_training_true(call: cst.Call) -> Optional[Fix]:
    """``self(x)`` -> ``self(x, training=True)``; none where another positional
    argument (or ``*args``) may already bind ``training``."""
    inputs = 3 if _is_stateless(call) else 1  # stateless_call(trainable, non_trainable, x)
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) > inputs or any(a.star for a in positional):
        return None
    return Fix.unsafe("Pass `training=True`", [add_argument(call, "training=True")])


def _self_and_descendants(node: cst.CSTNode):
    yield node
    yield from iter_descendants(node)


def _shown(call: _Call) -> str:
    return f"{call.callee}.stateless_call" if _is_stateless(call.node) else call.callee


def _is_stateless(call: cst.Call) -> bool:
    return isinstance(call.func, cst.Attribute) and call.func.attr.value == "stateless_call"


def _tests_training(test: cst.CSTNode) -> bool:
    """``if self._call_has_training_arg:`` and similar capability checks."""
    for sub in _self_and_descendants(test):
        if isinstance(sub, cst.Name) and "training" in sub.value.lower():
            return True
        if isinstance(sub, cst.SimpleString) and "training" in sub.value:
            return True
    return False


def _argument(call: cst.Call, position: int, keyword: str) -> Optional[cst.CSTNode]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[position].value if len(positional) > position else None


def _is_plain_class(node: cst.ClassDef, classes, depth: int = 0) -> bool:
    """``class Trainer:`` / ``class Trainer(object):`` (through classes of this
    file): its ``train_step`` is a custom loop's method, which fit() never runs."""
    if depth > 8:
        return False
    for base in node.bases:
        if base.keyword is not None:
            return False
        name = dotted(base.value)
        if name == "object":
            continue
        parent = classes.get(name) if name else None
        if parent is None or parent is node or not _is_plain_class(parent, classes, depth + 1):
            return False
    return True
