"""KM302 call-training-without-default (docs/semantics.md R9).

``def call(self, x, training)`` in a Layer/Model subclass: Keras 3 binds the
call signature before it looks for a ``training`` value, so every call that
does not pass ``training=`` raises ``TypeError: missing a required argument:
'training'`` -- building a functional model (``Block()(inputs)``), a bare
``layer(x)``, ``model(x)``. Keras 2 passed None. ``fit``/``predict`` and
parents that forward ``training=training`` still work, which is why the
mistake survives until someone calls the layer plainly.

Precision: only a parameter literally named ``training`` (positional or
keyword-only) without a default, in ``call`` of a class deriving from a
Keras layer or model (or from a base the file cannot show, when the file
uses Keras).

Fix (safe): ``training`` -> ``training=None`` (``training: bool`` ->
``training: bool = None``); calls that pass ``training`` see no change, and
those that did not stop raising. Not offered when a later positional
parameter has no default (the result would not parse).
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from ..engine.fixes import Fix, insert_after
from ..analysis.layer_calls import layer_call_methods, layer_calls, training_param
from ..engine.rule import Rule
from ..engine.versions import KERAS3


class CallTrainingWithoutDefault(Rule):
    code = "KM302"
    name = "call-training-without-default"
    summary = (
        "`call(self, x, training)` without a default: Keras 3 raises TypeError "
        "on every call that does not pass `training=`"
    )
    versions = KERAS3
    fix_safety = "safe"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.candidates = set()  # ids of `call` methods requiring `training`

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value == "call":
            param = training_param(node)
            if param is not None and param.default is None:
                self.candidates.add(id(node))

    def leave_Module(self, node: cst.Module) -> None:
        if not self.candidates:
            return  # no need for the layer index
        for cls, function in layer_call_methods(layer_calls(self.context)):
            if id(function) not in self.candidates:
                continue
            param = training_param(function)
            name = cls.name.value
            self.report(
                param,
                f"`{name}.call` requires `training`, so Keras 3 calls without it raise TypeError; "
                "default to `training=None`",
                explanation=f"`{name}.call` takes `training` without a default: in Keras 3 every call "
                "that does not pass `training=` raises TypeError (\"missing a required "
                f"argument: 'training'\"), e.g. building a functional model with "
                f"`{name}(...)(inputs)` or a bare `layer(x)` / `model(x)`; Keras 2 passed None. "
                "Give it a default: `training=None`.",
                fix=_default_none(function, param),
            )


def _default_none(function: cst.FunctionDef, param: cst.Param) -> Optional[Fix]:
    """``training`` -> ``training=None``, unless a positional parameter
    without a default follows it (a default may not precede one)."""
    params = function.params
    positional = [*params.posonly_params, *params.params]
    ids = [id(p) for p in positional]
    if id(param) in ids and any(p.default is None for p in positional[ids.index(id(param)) + 1:]):
        return None
    if param.annotation is not None:
        edit = insert_after(param.annotation, " = None")
    else:
        edit = insert_after(param.name, "=None")
    return Fix.safe("Give `training` a default of `None`", [edit])
