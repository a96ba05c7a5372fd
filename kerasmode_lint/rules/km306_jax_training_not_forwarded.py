"""KM306 jax-training-not-forwarded (docs/semantics.md R6).

Keras 3.0–3.15 with the JAX backend: ``fit``/``evaluate``/``predict`` run a
model through ``Layer.stateless_call``, which calls ``Model.call`` directly
and never opens a call context for the model. A subclassed Model's ``call``
receives ``training=True`` in ``fit``, but sublayers it calls without
forwarding ``training`` get ``None``: Dropout never drops and
BatchNormalization never updates, in ``fit`` as in ``evaluate``. The
TensorFlow and torch backends propagate the value, so the same code trains
correctly there. Keras master (PR keras-team/keras#23364) says it fixes the
propagation; 3.16+ is not flagged.

Precision: only with the JAX backend resolved for the file (option,
``KERAS_BACKEND`` in code or environment, keras.json); only Model
subclasses that are top-level (a class instantiated only as a sublayer of
another model, where the outer call context does reach its sublayers, is
left alone); only sublayers the class itself builds from layers that behave
differently in training (Dropout, BatchNormalization, augmentation, a
Sequential or helper containing them), called without ``training=`` or
``**kwargs``. Sublayers passed in from outside, methods and layers with no
training behaviour are not reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import libcst as cst

from ..keras_knowledge import Tri
from ..names import dotted
from .. import screens
from ..rule import Rule
from ..subclasses import (
    TRAINING_ENTRY_POINTS,
    ClassContents,
    ClassInfo,
    is_model_class,
    passes_training,
)
from ..versions import KERAS3_TO_315
from ..walker import iter_descendants


@dataclass
class _Call:
    node: cst.Call
    attr: str  # the self.<attr> whose layer is called
    shown: str  # how the callee reads in the source


@dataclass
class _Method:
    node: cst.FunctionDef
    cls: cst.ClassDef
    has_training: bool
    loop_vars: Dict[str, str] = field(default_factory=dict)  # for layer in self.<attr>
    calls: List[_Call] = field(default_factory=list)


class JaxTrainingNotForwarded(Rule):
    code = "KM306"
    name = "jax-training-not-forwarded"
    summary = (
        "Subclassed Model's `call` calls a sublayer without forwarding `training`: with the JAX "
        "backend, fit/evaluate/predict give that sublayer training=None"
    )
    versions = KERAS3_TO_315
    backends = frozenset({"jax"})
    triggers = (screens.CALL_METHOD,)

    def __init__(self, context) -> None:
        super().__init__(context)
        self.scopes: List[cst.CSTNode] = []
        self.method: Optional[_Method] = None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self.scopes[-1] if self.scopes else None
        if self.method is None and node.name.value == "call" and isinstance(parent, cst.ClassDef):
            params = [p.name.value for p in (*node.params.params, *node.params.kwonly_params)]
            has_kwargs = isinstance(node.params.star_kwarg, cst.Param)
            self.method = _Method(node, parent, "training" in params or has_kwargs)
        self.scopes.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.pop()
        if self.method is not None and self.method.node is node:
            self._check(self.method)
            self.method = None

    def visit_For(self, node: cst.For) -> None:
        if self.method is None or not isinstance(node.target, cst.Name):
            return
        owner = dotted(node.iter)
        if owner and owner.startswith("self.") and owner.count(".") == 1:
            self.method.loop_vars[node.target.value] = owner.split(".", 1)[1]

    def visit_Call(self, node: cst.Call) -> None:
        method = self.method
        if method is None or passes_training(node):
            return
        callee = dotted(node.func)
        if callee is None:
            return
        if callee.startswith("self.") and callee.count(".") == 1:
            method.calls.append(_Call(node, callee.split(".", 1)[1], callee))
        elif callee in method.loop_vars:
            method.calls.append(_Call(node, method.loop_vars[callee], callee))

    # -- verdict ------------------------------------------------------------------
    def _check(self, method: _Method) -> None:
        if not method.calls:
            return
        classes = self.context.models.index.classes
        if not is_model_class(method.cls, self.context.imports, classes):
            return
        contents = ClassContents(ClassInfo.of(method.cls), self.context.models, self.context.imports)
        if self._only_nested(contents):
            return
        for call in method.calls:
            if contents.of_attribute(call.attr) is not Tri.YES:
                continue
            if self._mode_free_by_construction(method.cls, call.attr, classes):
                continue
            self.report(call.node, self._brief(call, method), explanation=self._message(call, method))

    def _mode_free_by_construction(self, cls: cst.ClassDef, attr: str, classes) -> bool:
        """``self.attr`` is an instance of a class of this file whose ``call``
        takes no ``training`` (nor ``**kwargs``) and calls no sublayer: its
        random ops (``keras.random.dropout``) run whatever the mode."""
        for node in iter_descendants(cls.body):
            if not isinstance(node, cst.Assign) or len(node.targets) != 1:
                continue
            if dotted(node.targets[0].target) != f"self.{attr}" or not isinstance(node.value, cst.Call):
                continue
            target = classes.get(dotted(node.value.func) or "")
            if target is None:
                return False
            for member in target.body.body:
                if isinstance(member, cst.FunctionDef) and member.name.value == "call":
                    params = member.params
                    names = {p.name.value for p in (*params.params, *params.kwonly_params, *params.posonly_params)}
                    if "training" in names or isinstance(params.star_kwarg, cst.Param):
                        return False
                    return not any(
                        isinstance(n, cst.Call) and (dotted(n.func) or "").startswith("self.")
                        and (dotted(n.func) or "").count(".") == 1
                        for n in iter_descendants(member.body)
                    )
            return False
        return False

    def _only_nested(self, contents: ClassContents) -> bool:
        """Used in the file only as a layer (a sublayer of another model, or
        called directly, which opens a call context that does reach the
        sublayers), with no fit/evaluate/predict/compile of its own."""
        name = contents.info.name
        index = self.context.models.index
        nested = top_level = False
        variables = set()
        for target, pairs in index.assignments.items():
            for _, value in pairs:
                if _instantiates(value, name):
                    if target.startswith("self."):
                        nested = True
                    else:
                        variables.add(target)
                elif isinstance(value, (cst.List, cst.Tuple)) and any(
                    _instantiates(e.value, name) for e in value.elements
                ):
                    nested = True
        for calls in index.scope_calls.values():
            for call in calls:
                func = call.func
                if isinstance(func, cst.Call) and _instantiates(func, name):
                    nested = True  # Block(...)(x): a layer of a graph
                elif dotted(func) in variables:
                    nested = True  # block = Block(); block(x): called directly, as a layer
                elif isinstance(func, cst.Attribute) and func.attr.value in TRAINING_ENTRY_POINTS:
                    receiver = func.value
                    if dotted(receiver) in variables or _instantiates(receiver, name):
                        top_level = True
                elif self._is_sequential(func) and any(
                    _instantiates(sub, name) for arg in call.args for sub in iter_descendants(arg)
                ):
                    nested = True
        return nested and not top_level

    def _is_sequential(self, func: cst.CSTNode) -> bool:
        qualified = self.resolve(func) or ""
        return qualified.startswith("keras.") and qualified.endswith(".Sequential")

    def _brief(self, call: _Call, method: _Method) -> str:
        if method.has_training:
            return f"`{call.shown}(...)` gets no `training` from fit() on JAX (inference mode); pass `training=training`"
        return f"`{call.shown}(...)` gets no `training` from fit(), as `call` takes none; add `training=None` and pass it"

    def _message(self, call: _Call, method: _Method) -> str:
        where = f"`{call.shown}(...)` is called in `{method.cls.name.value}.call` without `training=`"
        effect = (
            "its Dropout never drops and its BatchNormalization never updates during fit()"
        )
        if method.has_training:
            return (
                f"{where}: with the JAX backend (Keras 3.0-3.15), fit(), evaluate() and predict() "
                "run `call` through stateless_call, which does not pass `training` on to "
                f"sublayers, so this one gets training=None: {effect}. Forward it: "
                f"`{call.shown}(..., training=training)`."
            )
        return (
            f"{where}, and `call` has no `training` parameter: Keras 3's fit() then calls the "
            "model without `training` (on the JAX backend, and on TensorFlow and torch too), "
            f"so this sublayer gets training=None: {effect}. Give `call` a `training=None` "
            f"parameter and forward it: `{call.shown}(..., training=training)`."
        )


def _instantiates(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Call) and dotted(node.func) == name
