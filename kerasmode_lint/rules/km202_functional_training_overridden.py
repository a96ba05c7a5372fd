"""KM202 functional-training-overridden (docs/semantics.md R1, R2, R3).

Keras 3.0-3.15 (every backend) overwrites the ``training`` value recorded on
each node of a functional or Sequential graph with the outer call's value
whenever that value is not None: in ``fit``, ``evaluate``, ``predict``, the
``*_on_batch`` methods and ``model(x, training=...)``. So

* ``base(x, training=False)`` (the transfer-learning guide's recipe) does not
  keep the base in inference mode during ``fit``: its Dropout drops while it is
  frozen, and once it is made trainable its BatchNormalization layers update
  their moving statistics;
* ``Dropout(r)(x, training=True)`` (Monte-Carlo dropout) is switched off by
  ``predict`` and ``evaluate``.

Keras 2 (tf_keras) and Keras 3.16+ (keras-team/keras#23364) honour the node's
value, so the rule is silent there.

Precision: only literal ``training=True``/``False`` on a call applied to a
symbolic tensor of the same function. ``training=False`` is flagged when the
object is known to contain Dropout, or contains (or may contain)
BatchNormalization and is not frozen for good (never frozen, or made
trainable again without re-freezing its BatchNormalization layers after that);
``training=True`` only when it is known to contain Dropout (augmentation
pinned to True is meant to be off at inference; BatchNormalization pinned to
True is KM203's, and harmless here). Objects whose ``call`` pins ``training``
itself (an ``MCDropout`` subclass, a wrapper layer) are left alone: they are
the fixes.
"""
from __future__ import annotations

import libcst as cst

from ..analysis.keras_knowledge import Tri
from ..engine.rule import Rule
from ..engine.versions import KERAS3_TO_315
from ._graph_nodes import Callee, callee_of, describe, dropout_clause, training_keyword, training_risk


class FunctionalTrainingOverridden(Rule):
    code = "KM202"
    name = "functional-training-overridden"
    summary = (
        "`training=` on a functional/Sequential graph node is overridden by fit/evaluate/predict "
        "in Keras 3.0-3.15"
    )
    versions = KERAS3_TO_315

    def __init__(self, context) -> None:
        super().__init__(context)
        self.candidates = []

    def visit_Call(self, node: cst.Call) -> None:
        value = training_keyword(node)
        if isinstance(value, cst.Name) and value.value in ("True", "False"):
            self.candidates.append((node, value.value == "True"))

    def leave_Module(self, node: cst.Module) -> None:
        models = self.context.models
        for call, pinned in self.candidates:
            if not models.is_graph_node(call):
                continue
            callee = callee_of(models, call)
            if callee is None or callee.contents.ignores_training:
                continue
            if pinned:
                if callee.contents.dropout is Tri.YES:
                    self.report(call, f"`training=True` on `{callee.label}` is overridden, so it does not drop in "
                                "predict(); use an always-on Dropout subclass",
                                explanation=self._mc_message(callee))
                continue
            risk = training_risk(callee, meant_inference=True)
            if risk:
                self.report(call, f"`training=False` on `{callee.label}` is overridden by fit{dropout_clause(risk)}; "
                            "wrap it in a layer passing it",
                            explanation=self._inference_message(callee, risk))

    def _mc_message(self, callee: Callee) -> str:
        name = callee.label
        return (
            f"Keras 3.0-3.15 overrides `training=True` on this graph node with the outer value: "
            f"`predict`, `evaluate` and `model(x, training=False)` run `{name}` with training=False, "
            "so its dropout is off at prediction time (Monte-Carlo dropout silently disabled). "
            "Use a Dropout subclass whose `call` returns `super().call(inputs, training=True)`; "
            "it works in Keras 2 and 3."
        )

    def _inference_message(self, callee: Callee, risk) -> str:
        name = callee.label
        what, _ = describe(callee, risk)
        fix = f"call `{name}` through a layer whose `call` runs `{name}(x, training=False)`"
        if risk.dropout is Tri.NO:
            fix += (
                ", or after making it trainable set `trainable=False` on each of its "
                "BatchNormalization layers"
            )
        return (
            f"Keras 3.0-3.15 overrides `training=False` on this graph node with the outer value: "
            f"`fit` runs `{name}` with training=True, so {what}. To keep it in inference mode, {fix}."
        )
