"""KM305 explicit-training-none (docs/semantics.md R8; Keras 3 only).

A literal ``training=None`` passed to a Keras layer or model call. Keras 3
uses an explicitly passed value as is, None included: the layer's own
default is not applied and the outer call's value is not inherited. Keras 2
treats ``training=None`` exactly like omitting it.

Flagged where that difference changes what runs:

* inside ``call`` of a Layer/Model subclass, on a sublayer that contains
  mode-dependent layers: during ``fit()`` it gets None instead of True, so
  its Dropout does not drop and its BatchNormalization neither uses batch
  statistics nor updates its moving ones (and later sublayers inherit None,
  see KM304);
* anywhere, on a layer whose ``call`` defaults to ``training=True`` and uses
  it (Keras's random augmentation layers, an in-file class): it gets None
  instead, i.e. no augmentation, where Keras 2 applied the default.

Left alone: ``model(x, training=None)`` at the top level and functional
nodes built with ``training=None`` (the same as omitting it in every
measured case), and ``training=training`` forwarding (correct: the
forwarder's own value was already resolved from the context).

Fix (unsafe): remove the ``training=None`` argument (and its comma), so the
layer applies its own default or inherits the outer call's mode, as Keras 2
did; not offered where a comment would go with it.
"""
from __future__ import annotations

from typing import List, Optional

import libcst as cst

from ..analysis import keras_knowledge as kk
from ..engine.fixes import Fix, remove_argument
from ..analysis.keras_knowledge import Tri
from ..analysis.layer_calls import (
    Callee, LayerCalls, keyword_value, layer_calls, reads_name, training_param,
)
from ..engine.rule import Rule
from ..engine.versions import KERAS3


class ExplicitTrainingNone(Rule):
    code = "KM305"
    name = "explicit-training-none"
    summary = (
        "Literal `training=None` passed to a layer: Keras 3 passes None through "
        "instead of inheriting the outer mode or applying the layer's default"
    )
    versions = KERAS3
    fix_safety = "unsafe"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.candidates: List[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        value = keyword_value(node, "training")
        if isinstance(value, cst.Name) and value.value == "None":
            self.candidates.append(node)

    def leave_Module(self, node: cst.Module) -> None:
        if not self.candidates:
            return
        index = layer_calls(self.context)
        for call in self.candidates:
            callee = index.callee(call)
            if callee is None:
                continue
            if self._default_true(index, callee):
                self.report(call, f"`training=None` skips `{callee.label}`'s random transformation in Keras 3; "
                            "omit the argument", explanation=_default_message(callee), fix=_drop_training_none(call))
                continue
            owner = self._inside_call_method(index, call)
            if owner is not None and callee.label != "self" and self._mode_dependent(callee) is Tri.YES:
                self.report(call, f"`training=None` runs `{callee.label}` in inference mode in Keras 3, even in fit(); "
                            "pass `training=training`", explanation=_inherit_message(callee, owner),
                            fix=_drop_training_none(call))

    def _default_true(self, index: LayerCalls, callee: Callee) -> bool:
        """Does the layer's own ``call`` default to True and act on it?"""
        if callee.classdef is not None:
            function = index.call_method(callee.classdef)
            if function is not None:
                param = training_param(function)
                return (
                    param is not None
                    and isinstance(param.default, cst.Name)
                    and param.default.value == "True"
                    and reads_name(function.body, "training")
                )
            builtin = index.builtin_base(callee.classdef)
            return builtin is not None and _augmenting(builtin)
        return callee.builtin and _augmenting(callee.class_name)

    @staticmethod
    def _inside_call_method(index: LayerCalls, call: cst.Call) -> Optional[str]:
        """The class name when ``call`` sits directly in a layer's ``call``."""
        functions = index.enclosing_functions(call)
        cls = index.enclosing_class(call)
        if not functions or cls is None or functions[-1].name.value != "call":
            return None
        if index.class_of[id(cls)].methods.get("call") is not functions[-1]:
            return None
        return cls.name.value if index.is_layer_class(cls) else None

    def _mode_dependent(self, callee: Callee) -> Tri:
        models = self.context.models
        return Tri.any_of(models.of_expression(c) for c in callee.constructors)


def _drop_training_none(call: cst.Call) -> Optional[Fix]:
    """``layer(x, training=None)`` -> ``layer(x)``."""
    [index] = [i for i, a in enumerate(call.args) if a.keyword is not None and a.keyword.value == "training"]
    edit = remove_argument(call, index)
    return Fix.unsafe("Remove `training=None`", [edit]) if edit is not None else None


def _augmenting(class_name: Optional[str]) -> bool:
    return class_name in kk.AUGMENTATION and class_name in kk.KERAS3_DEFAULT_TRAINING_TRUE


def _default_message(callee: Callee) -> str:
    return (
        f"`{callee.label}(..., training=None)`: Keras 3 passes None through instead of "
        "applying the layer's default `training=True`, so its random transformation is "
        "skipped (None counts as inference); Keras 2 treated `training=None` as omitted. "
        "Omit the argument, or pass `training=True` / `training=training`."
    )


def _inherit_message(callee: Callee, owner: str) -> str:
    return (
        f"`{callee.label}(..., training=None)` inside `{owner}.call`: Keras 3 passes None "
        "through instead of the outer call's value, so even during fit() it runs in "
        "inference mode (Dropout off, BatchNormalization frozen), and the sublayers "
        "called after it without `training=` inherit None. Keras 2 treated `training=None` "
        "as omitted. Pass `training=training` (or omit the argument)."
    )
