"""KM201 frozen-model-without-training-false (docs/semantics.md R11, V1).

A model frozen with ``base.trainable = False`` (or ``trainable=False`` in its
constructor) and used as a node of a functional or Sequential model without
``training=`` runs in training mode whenever ``fit`` does: ``trainable=False``
puts its BatchNormalization layers in inference mode but leaves its Dropout
layers active, and as soon as the base is made trainable again for
fine-tuning, its BatchNormalization layers update their moving statistics
with the new batches and wreck the pretrained features.

A literal ``training=None`` or ``training=True`` on the node counts as no
``training=`` at all: either way ``fit`` runs the base in training mode (R17).

Precision: only calls applied to a symbolic tensor of the same function
(``keras.Input``, a model's ``.output``), ``Sequential([...])`` elements and
``Sequential.add`` arguments count; inspection calls on real data do not. A
base is flagged when it is known to contain Dropout, or when it contains (or
may contain) BatchNormalization and is made trainable again somewhere in the
file without its BatchNormalization layers being frozen again afterwards. A
base with neither (VGG16, ConvNeXt, Embedding, Dense-only), a BN-only base that
is never unfrozen, a ``tensorflow_hub.KerasLayer`` (frozen means inference
there), and a base of unknown contents that is never unfrozen are left alone.

Fix (unsafe): add ``training=False`` to a functional node's call, under Keras 2
and 3.16+ only: Keras 3.0-3.15 override the node's value in ``fit`` (KM202),
and a Sequential element has no call to edit.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from ..engine.fixes import Fix, add_argument
from ..analysis.keras_knowledge import Tri
from ..analysis.names import dotted
from ..engine.rule import Rule
from ..engine.versions import ALL, KERAS3_TO_315
from ._graph_nodes import (
    Callee,
    dropout_clause,
    constructed,
    describe,
    has_training_argument,
    is_frozen_constructor,
    training_keyword,
    training_risk,
)

_SEQUENTIAL = frozenset({"keras.Sequential", "keras.models.Sequential"})
_OWN_TRAINING = frozenset({"compile", "fit", "train_on_batch"})


class FrozenModelWithoutTrainingFalse(Rule):
    code = "KM201"
    name = "frozen-model-without-training-false"
    summary = (
        "Frozen model used as a graph node without `training=False`: its Dropout still "
        "drops in `fit`, and its BatchNormalization updates once it is unfrozen"
    )
    versions = ALL
    fix_safety = "unsafe"

    def __init__(self, context) -> None:
        super().__init__(context)
        # (node to report, the call it belongs to, "node" | "sequential" | "add")
        self.candidates: List[Tuple[cst.CSTNode, cst.Call, str]] = []
        self.freezes = False  # the file sets trainable=False somewhere
        # Models compiled or trained on their own: a GAN discriminator frozen
        # inside the combined model, not a pretrained base (KM501/KM502 own it).
        self.trained_alone: set = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if _is_false(node.value) and any(
            isinstance(t.target, cst.Attribute) and t.target.attr.value == "trainable"
            for t in node.targets
        ):
            self.freezes = True

    def visit_Call(self, node: cst.Call) -> None:
        if is_frozen_constructor(node):
            self.freezes = True
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _OWN_TRAINING:
            receiver = dotted(func.value)
            if receiver is not None:
                self.trained_alone.add(receiver)
        if isinstance(func, (cst.Name, cst.Attribute, cst.Call)):
            if node.args and (not has_training_argument(node) or _explicit_train_or_none(node)):
                self.candidates.append((node, node, "node"))
        if self.resolve(func) in _SEQUENTIAL and node.args and node.args[0].keyword is None:
            layers = node.args[0].value
            if isinstance(layers, (cst.List, cst.Tuple)):
                for element in layers.elements:
                    self.candidates.append((element.value, node, "sequential"))
        elif isinstance(func, cst.Attribute) and func.attr.value == "add" and len(node.args) == 1:
            self.candidates.append((node.args[0].value, node, "add"))

    def leave_Module(self, node: cst.Module) -> None:
        if not self.freezes:
            return  # nothing is frozen: no need to index the file
        models = self.context.models
        for report_at, call, kind in self.candidates:
            if kind == "node":
                target = call.func
            else:
                target = report_at
            callee = self._callee(target, call)
            if callee is None or not callee.state.frozen or callee.label in self.trained_alone:
                continue
            if kind == "node" and not models.is_graph_node(call):
                continue
            if kind == "add" and not self._is_sequential_add(call):
                continue
            risk = training_risk(callee, meant_inference=False)
            if not risk:
                continue
            written = _literal_training(call) if kind == "node" else None
            if written == "None" and not self.context.keras_version.is_keras2 \
                    and self.context.keras_version not in KERAS3_TO_315:
                continue  # 3.16 keeps the node's None: measured, the base infers (R17)
            if written is not None:
                self.report(report_at, self._explicit_message(callee, risk, written),
                            explanation=self._explicit_explanation(callee, written))
            else:
                self.report(report_at, self._brief(callee, risk, kind != "node"),
                            explanation=self._message(callee, risk, kind != "node"),
                            fix=self._fix(call, kind))

    def _callee(self, target: cst.CSTNode, call: cst.Call) -> Optional[Callee]:
        """``base`` (a name) or ``Ctor(..., trainable=False)`` (built inline)."""
        models = self.context.models
        name = dotted(target)
        if name is not None:
            if name in ("self", "super"):
                return None
            state = models.training_state(name, at=call)
            if not state.frozen:
                return None  # the common case: answer it before the contents
            return Callee(name, models.contents_of_name(name, at=call), state)
        if isinstance(target, cst.Call) and is_frozen_constructor(target):
            return constructed(models, target)
        return None

    def _is_sequential_add(self, call: cst.Call) -> bool:
        receiver = dotted(call.func.value)
        if receiver is None:
            return False
        index = self.context.models.index
        for _, value in index.values(index.assignments, receiver, index.scope_of_call.get(id(call))):
            if isinstance(value, cst.Call) and self.resolve(value.func) in _SEQUENTIAL:
                return True
        return False

    def _brief(self, callee: Callee, risk, in_sequential: bool) -> str:
        name = callee.label
        what = f"`{name}` is frozen but runs in training mode{dropout_clause(risk)}"
        if self.context.keras_version in KERAS3_TO_315:
            return f"{what}; wrap it in a layer passing `training=False`"
        if in_sequential:
            return f"{what}; call it functionally with `training=False`"
        return f"{what}; pass `training=False`"

    def _fix(self, call: cst.Call, kind: str) -> Optional[Fix]:
        """``base(inputs)`` -> ``base(inputs, training=False)`` where the
        node's value is honoured (Keras 2, 3.16+)."""
        if kind != "node" or self.context.keras_version in KERAS3_TO_315:
            return None
        if any(a.star for a in call.args):
            return None  # ``base(*inputs)``: what it binds is unknown
        return Fix.unsafe("Pass `training=False`", [add_argument(call, "training=False")])

    def _message(self, callee: Callee, risk, in_sequential: bool) -> str:
        what, _ = describe(callee, risk)
        name = callee.label
        where = "in a Sequential model" if in_sequential else "as a node of a functional model"
        text = (
            f"`{name}` is frozen (`trainable=False`) but used {where} without `training=False`: "
            f"`fit` runs it in training mode, so {what}."
        )
        if self.context.keras_version in KERAS3_TO_315:
            fix = (
                f" In Keras 3.0-3.15 `training=False` on the node is overridden by `fit` (KM202): "
                f"call `{name}` through a layer whose `call` runs `{name}(x, training=False)`"
            )
            if risk.dropout is Tri.NO:
                fix += (
                    ", or after making it trainable set `trainable=False` on each of its "
                    "BatchNormalization layers"
                )
            return text + fix + "."
        if in_sequential:
            return text + (
                f" Build the model with the functional API and call `{name}(inputs, training=False)`."
            )
        return text + f" Call it as `{name}(..., training=False)`."

    def _explicit_message(self, callee: Callee, risk, written: str) -> str:
        # One sentence: neither value keeps the frozen base in inference mode (R17).
        effects = []
        if risk.dropout is not Tri.NO:
            effects.append("Dropout drops" if risk.dropout is Tri.YES else "any Dropout drops")
        if risk.batchnorm is not Tri.NO:
            effects.append("BatchNormalization trains once unfrozen")
        return (
            f"Frozen `{callee.label}` gets `training={written}`: `fit` runs it in training mode "
            f"({', '.join(effects)})"
        )

    def _explicit_explanation(self, callee: Callee, written: str) -> str:
        return (
            f"`trainable=False` does not choose the mode a layer runs in. A node written "
            f"`{callee.label}(..., training={written})` lets fit() run the frozen model in training mode: "
            "its Dropout drops and, once it is unfrozen for fine-tuning, its BatchNormalization normalises "
            "with batch statistics and updates its moving statistics. Pass `training=False` on the node to "
            "keep it in inference mode (docs/semantics.md)."
        )


def _literal_training(call: cst.Call) -> Optional[str]:
    """"True" / "None" for a node written ``base(x, training=True|None)``."""
    value = training_keyword(call)
    if isinstance(value, cst.Name) and value.value in ("True", "None"):
        return value.value
    return None


def _explicit_train_or_none(call: cst.Call) -> bool:
    """``training=True`` / ``training=None`` written on the node: neither keeps
    a frozen base in inference mode during ``fit`` (docs/semantics.md R17)."""
    if any(arg.star == "**" for arg in call.args):
        return False
    positional = sum(1 for arg in call.args if arg.keyword is None and not arg.star)
    return positional == 1 and _literal_training(call) is not None


def _is_false(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"
