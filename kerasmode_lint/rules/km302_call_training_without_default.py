"""KM302 call-training-without-default (SEMANTICS.md R9).

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
"""
from __future__ import annotations

import libcst as cst

from ..layer_calls import layer_call_methods, layer_calls, training_param
from ..rule import Rule
from ..versions import KERAS3


class CallTrainingWithoutDefault(Rule):
    code = "KM302"
    name = "call-training-without-default"
    summary = (
        "`call(self, x, training)` without a default: Keras 3 raises TypeError "
        "on every call that does not pass `training=`"
    )
    versions = KERAS3
    triggers = (b"def call",)

    def leave_Module(self, node: cst.Module) -> None:
        for cls, function in layer_call_methods(layer_calls(self.context)):
            param = training_param(function)
            if param is None or param.default is not None:
                continue
            name = cls.name.value
            self.report(
                param,
                f"`{name}.call` takes `training` without a default: in Keras 3 every call "
                "that does not pass `training=` raises TypeError (\"missing a required "
                f"argument: 'training'\"), e.g. building a functional model with "
                f"`{name}(...)(inputs)` or a bare `layer(x)` / `model(x)`; Keras 2 passed None. "
                "Give it a default: `training=None`.",
            )
