"""KM203 batchnorm-pinned-to-training (docs/semantics.md R15).

A BatchNormalization called with a hard-coded ``training=True`` normalises
with the statistics of each batch even under ``predict`` (so a prediction
depends on the other samples in its batch) and updates its moving statistics
during ``evaluate``.

Two places:

* inside a layer's or model's ``call`` (``self.bn(x, training=True)``): the
  value is honoured by every Keras version;
* on a node of a functional graph (``BatchNormalization()(x, training=True)``):
  honoured by Keras 2 and Keras 3.16+; Keras 3.0-3.15 overrides it with the
  outer value (KM202), so the rule is silent there for graph nodes.

Precision: the callee must be known to contain BatchNormalization (a
BatchNormalization layer, or a model/block built in the file that holds one).
Dropout pinned to True (intentional Monte-Carlo dropout) is not this rule's
business. A call under ``if training:`` (mode-following code), a callee
frozen with ``trainable=False`` for good (BatchNormalization then ignores
``training=True``), and objects whose ``call`` pins ``training`` itself are
left alone.
"""
from __future__ import annotations

from typing import List

import libcst as cst

from ..analysis.keras_knowledge import Tri
from ..engine.rule import Rule
from ..engine.versions import ALL, KERAS2_AND_316
from ..engine.walker import iter_children
from ._graph_nodes import callee_of, training_keyword


class BatchnormPinnedToTraining(Rule):
    code = "KM203"
    name = "batchnorm-pinned-to-training"
    summary = (
        "BatchNormalization called with a hard-coded `training=True`: `predict` normalises "
        "with batch statistics and `evaluate` updates the moving statistics"
    )
    versions = ALL

    def __init__(self, context) -> None:
        super().__init__(context)
        self.functions: List[str] = []
        self.classes = 0
        self.mode_tests = 0  # enclosing ``if`` statements that test ``training``
        self.candidates = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes += 1

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node.name.value)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_If(self, node: cst.If) -> None:
        self.mode_tests += _tests_training(node.test)

    def leave_If(self, node: cst.If) -> None:
        self.mode_tests -= _tests_training(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self.mode_tests += _tests_training(node.test)

    def leave_IfExp(self, node: cst.IfExp) -> None:
        self.mode_tests -= _tests_training(node.test)

    def visit_Call(self, node: cst.Call) -> None:
        value = training_keyword(node)
        if not (isinstance(value, cst.Name) and value.value == "True") or self.mode_tests:
            return
        in_call = bool(self.classes and self.functions and self.functions[-1] == "call")
        self.candidates.append((node, in_call))

    def leave_Module(self, node: cst.Module) -> None:
        models = self.context.models
        graph_versions = self.context.keras_version in KERAS2_AND_316
        for call, in_call in self.candidates:
            if not in_call:
                if not graph_versions or not models.is_graph_node(call):
                    continue
            callee = callee_of(models, call)
            if callee is None or callee.contents.ignores_training:
                continue
            if callee.contents.batchnorm is not Tri.YES:
                continue
            if callee.state.frozen and not callee.state.unfrozen:
                continue  # trainable=False BatchNormalization ignores training=True
            self.report(call, self._brief(callee.label, in_call), explanation=self._message(callee.label, in_call))

    def _brief(self, name: str, in_call: bool) -> str:
        fix = "pass `training=training`" if in_call else "drop `training=True`"
        return f"`{name}` normalises by batch in predict() too; {fix} if unintended"

    def _message(self, name: str, in_call: bool) -> str:
        where = "inside `call`" if in_call else "on a graph node"
        fix = (
            "pass the mode through: `training=training`" if in_call
            else "remove `training=True` and let Keras pass the mode"
        )
        return (
            f"`{name}` is called with a hard-coded `training=True` {where}, so its "
            "BatchNormalization runs in training mode under `predict` and `evaluate` too: "
            "predictions are normalised with each batch's own statistics (they depend on the "
            f"rest of the batch) and `evaluate` updates the moving statistics. Unless intended, {fix}."
        )


def _tests_training(test: cst.CSTNode) -> int:
    stack = [test]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name) and current.value == "training":
            return 1
        if isinstance(current, cst.Attribute):
            if current.attr.value == "training":
                return 1
            stack.append(current.value)
            continue
        stack.extend(iter_children(current))
    return 0
