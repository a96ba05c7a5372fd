"""KM304 training-pin-leaks-to-siblings (docs/semantics.md R4; Keras 3 only).

Inside a subclassed ``call``, ``h = self.backbone(x, training=False)``
followed by ``self.dropout(h)`` / ``self.bn(h)`` without ``training=``: Keras 3
writes every resolved ``training`` value into one call context shared by the
whole outer call and never restores it, so the later sublayers inherit the
pinned False even during ``fit()`` -- the head Dropout never drops and the
head BatchNormalization never updates its statistics. A literal
``training=None`` pin makes them fall back to their own defaults (Dropout
off). A literal ``training=True`` pin (``self.drop(x, training=True)``, MC
dropout) puts a BatchNormalization called after it in training mode in
``predict``, ``evaluate`` and a bare ``model(x)``: it normalises with batch
statistics and updates its moving statistics (R18); only BatchNormalization
victims are reported for such pins, since a later Dropout sampling at
inference is what MC-dropout code intends. Keras 2 keeps a stack of contexts, so the siblings get the outer value.

The finding is reported on each affected later call, where the fix goes:
pass ``training=training`` to it.

Precision: only inside ``call`` of a Layer/Model subclass; the pin must be a
literal False/None on a call the file shows to be a layer; an affected call
must be a layer call without ``training=`` or ``**kwargs`` whose layer the
file shows to contain mode-dependent layers (Dropout, BatchNormalization,
augmentation...). Calls in another branch of the same ``if`` as the pin, or
after a pin whose block returns, are not affected; a later sublayer call with
an explicit non-literal ``training=`` (e.g. ``training=training``) restores
the context for the calls after it. Nested functions are not followed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import libcst as cst

from ..analysis import keras_knowledge as kk
from ..analysis.keras_knowledge import Tri
from ..analysis.layer_calls import (
    Callee, LayerCalls, keyword_value, layer_call_methods, layer_calls,
    passes_star_kwargs, positional_training, training_param,
)
from ..engine.rule import Rule
from ..engine.versions import KERAS3
from ..engine.walker import iter_children

_Marker = Tuple[int, str]  # (id of the branching node, branch label)
_EXCLUSIVE_PREFIXES = ("if-", "ifexp-", "case-", "handler-")


@dataclass
class _Event:
    order: int  # execution order within the body
    call: cst.Call
    path: Tuple[_Marker, ...]


class _Scanner:
    """Layer calls of one function body in execution order, with the
    branches they sit in."""

    def __init__(self) -> None:
        self.events: List[_Event] = []
        self.terminates: Dict[_Marker, bool] = {}

    def block(self, block: cst.CSTNode, path: Tuple[_Marker, ...], marker: Optional[_Marker] = None) -> None:
        if marker is not None:
            path = path + (marker,)
            self.terminates[marker] = _ends_in_jump(block)
        self.visit(block, path)

    def visit(self, node: cst.CSTNode, path: Tuple[_Marker, ...]) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return
        if isinstance(node, cst.If):
            self.visit(node.test, path)
            self.block(node.body, path, (id(node), "if-body"))
            if isinstance(node.orelse, cst.If):
                self.block(node.orelse, path, (id(node), "if-else"))
            elif node.orelse is not None:
                self.block(node.orelse.body, path, (id(node), "if-else"))
            return
        if isinstance(node, cst.IfExp):
            self.visit(node.test, path)
            self.block(node.body, path, (id(node), "ifexp-body"))
            self.block(node.orelse, path, (id(node), "ifexp-else"))
            return
        if isinstance(node, (cst.Try, cst.TryStar)):
            self.block(node.body, path, (id(node), "try-body"))
            for i, handler in enumerate(node.handlers):
                self.block(handler.body, path, (id(node), f"handler-{i}"))
            if node.orelse is not None:
                self.block(node.orelse.body, path, (id(node), "try-else"))
            if node.finalbody is not None:
                self.visit(node.finalbody.body, path)
            return
        if isinstance(node, (cst.For, cst.While)):
            self.visit(node.iter if isinstance(node, cst.For) else node.test, path)
            self.block(node.body, path, (id(node), "loop"))
            if node.orelse is not None:
                self.block(node.orelse.body, path, (id(node), "loop-else"))
            return
        if isinstance(node, cst.Match):
            self.visit(node.subject, path)
            for i, case in enumerate(node.cases):
                self.block(case.body, path, (id(node), f"case-{i}"))
            return
        for child in iter_children(node):
            self.visit(child, path)
        if isinstance(node, cst.Call):
            self.events.append(_Event(len(self.events), node, path))


def _ends_in_jump(block: cst.CSTNode) -> bool:
    body = getattr(block, "body", None)
    if not isinstance(body, (list, tuple)) or not body:
        return False
    last = body[-1]
    if isinstance(last, cst.SimpleStatementLine) and last.body:
        return isinstance(last.body[-1], (cst.Return, cst.Raise, cst.Continue, cst.Break))
    return False


def _literal(node: Optional[cst.CSTNode]) -> Optional[str]:
    if isinstance(node, cst.Name) and node.value in ("False", "None", "True"):
        return node.value
    return None


class TrainingPinLeaksToSiblings(Rule):
    code = "KM304"
    name = "training-pin-leaks-to-siblings"
    summary = (
        "Sublayer called without `training=` after a sibling pinned to a literal "
        "`training=` in `call`: Keras 3 leaks the pinned value to it"
    )
    versions = KERAS3

    def __init__(self, context) -> None:
        super().__init__(context)
        self.has_pin = False

    def visit_Call(self, node: cst.Call) -> None:
        if not self.has_pin and _literal(keyword_value(node, "training")) is not None:
            self.has_pin = True

    def leave_Module(self, node: cst.Module) -> None:
        if not self.has_pin:
            return  # no need for the layer index
        index = layer_calls(self.context)
        for cls, function in layer_call_methods(index):
            self._check(index, cls, function)

    def _check(self, index: LayerCalls, cls: cst.ClassDef, function: cst.FunctionDef) -> None:
        scanner = _Scanner()
        scanner.visit(function.body, ())
        pins: List[Tuple[_Event, Callee, str]] = []
        restores: List[_Event] = []
        for event in scanner.events:
            callee = index.callee(event.call)
            if callee is None or callee.label == "self":
                continue
            value = keyword_value(event.call, "training")
            if value is not None:
                pinned = _literal(value)
                if pinned is not None:
                    pins.append((event, callee, pinned))
                else:
                    restores.append(event)
                continue
            if passes_star_kwargs(event.call) or positional_training(event.call) or not pins:
                continue  # ``**kwargs`` may carry it; a positional one is KM303's
            pin = self._leaking_pin(scanner, pins, restores, event)
            if pin is None:
                continue
            if pin[2] == "True":
                # Only BatchNormalization is harmed: a Dropout after an MC-dropout
                # pin dropping at inference is what such code wants (R18).
                if self._holds_batchnorm(callee) is Tri.YES:
                    self.report(event.call, _true_pin_message(pin[1], callee),
                                explanation=_true_pin_explanation(pin[1], callee))
                continue
            if self._mode_dependent(callee) is not Tri.YES:
                continue
            self.report(event.call, _brief(function, pin[1], pin[2], callee),
                        explanation=_message(cls, function, pin[1], pin[2], callee))

    def _leaking_pin(self, scanner: _Scanner, pins, restores, event: _Event):
        for pin in reversed(pins):
            if not _reaches(scanner, pin[0], event):
                continue
            healed = any(
                pin[0].order < r.order < event.order and event.path[: len(r.path)] == r.path
                for r in restores
            )
            return None if healed else pin
        return None

    def _mode_dependent(self, callee: Callee) -> Tri:
        models = self.context.models
        return Tri.any_of(models.of_expression(c) for c in callee.constructors)

    def _holds_batchnorm(self, callee: Callee) -> Tri:
        models = self.context.batchnorm
        return Tri.any_of(models.of_expression(c) for c in callee.constructors)


def _reaches(scanner: _Scanner, pin: _Event, event: _Event) -> bool:
    """Does the context the pin set still hold when ``event`` runs?"""
    k = 0
    while k < min(len(pin.path), len(event.path)) and pin.path[k] == event.path[k]:
        k += 1
    pin_rest, event_rest = pin.path[k:], event.path[k:]
    if pin_rest and event_rest and pin_rest[0][0] == event_rest[0][0]:
        labels = (pin_rest[0][1], event_rest[0][1])
        if any(label.startswith(_EXCLUSIVE_PREFIXES) for label in labels):
            return False  # other branch of the same if / match / handler
    return not any(scanner.terminates.get(marker, False) for marker in pin_rest)


def _brief(function: cst.FunctionDef, pinned: Callee, value: str, victim: Callee) -> str:
    fix = "pass `training=training`" if training_param(function) is not None else "take and pass `training`"
    return f"`{victim.label}` inherits `training={value}` from `{pinned.label}(...)`, even in fit(); {fix}"


def _true_pin_message(pinned: Callee, victim: Callee) -> str:
    return (
        f"`{victim.label}` inherits training=True from `{pinned.label}(..., training=True)`: "
        "Keras 3 updates its statistics in predict()"
    )


def _true_pin_explanation(pinned: Callee, victim: Callee) -> str:
    return (
        f"In Keras 3 a literal `training=True` passed to `{pinned.label}(...)` inside `call` becomes the "
        f"training mode of the calls after it in the same `call`: `{victim.label}`, a BatchNormalization, "
        "then normalises with batch statistics and overwrites its moving statistics even under predict() "
        f"or a bare model(x). Pass `training=training` to `{victim.label}` (a Dropout after such a pin, "
        "for Monte Carlo sampling, is left alone) (docs/semantics.md)."
    )


def _message(cls: cst.ClassDef, function: cst.FunctionDef, pinned: Callee, value: str, victim: Callee) -> str:
    name = victim.class_name
    if name in kk.DROPOUT_LIKE:
        effect = "it never drops"
    elif name in kk.BATCHNORM_LIKE:
        effect = "it normalises with its moving statistics and never updates them"
    elif name in kk.AUGMENTATION:
        effect = "it never augments"
    else:
        effect = "the Dropout and BatchNormalization in it run in inference mode"
    effect = (
        f"inherits False even during fit(): {effect}"
        if value == "False"
        else f"gets None even during fit() (the pinned value) and runs in inference mode: {effect}"
    )
    forward = (
        f"`training=training` to `{victim.label}`"
        if training_param(function) is not None
        else f"`training=training` to `{victim.label}` (after adding `training=None` to "
        f"`{cls.name.value}.call`)"
    )
    return (
        f"`{victim.label}` is called without `training=` after `{pinned.label}(..., "
        f"training={value})` in `{cls.name.value}.call`: Keras 3 keeps that value in the "
        f"call context shared by the whole outer call, so `{victim.label}` {effect}. "
        f"Keras 2 gave it the outer value. Pass {forward}."
    )
