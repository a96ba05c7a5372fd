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

from ..analysis.keras_knowledge import Tri
from ..analysis.names import dotted
from ..engine.rule import Rule
from ..analysis.subclasses import (
    ClassContents,
    ClassInfo,
    is_model_class,
    passes_training,
)
from ..engine.versions import KERAS3_TO_315
from ._top_level import mode_free_by_construction, only_nested


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
        if only_nested(self.context, contents.info.name):
            return
        for call in method.calls:
            if contents.of_attribute(call.attr) is not Tri.YES:
                continue
            if mode_free_by_construction(method.cls, call.attr, classes):
                continue
            self.report(call.node, self._brief(call, method), explanation=self._message(call, method))

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
