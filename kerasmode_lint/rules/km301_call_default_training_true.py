"""KM301 call-default-training-true (docs/semantics.md R7, R5).

``def call(self, x, training=True)`` in a Layer/Model subclass does not force
training mode. ``predict()``, ``evaluate()`` and any outer
``training=False`` override the default, so an "always on" layer (MC
dropout) is silently off at inference, while a bare ``layer(x)`` or
``model(x)`` runs in training mode (Dropout drops, BatchNormalization uses
batch statistics and updates its moving ones). In Keras 3.0–3.15 the default
also leaks: when nothing else set ``training``, Keras stores the default in
the call context shared by the whole outer call, so every layer called after
it without ``training=`` runs in training mode too (keras-hub#2495; fixed by
keras-team/keras#23166 in 3.16).

Precision: a layer that follows the preprocessing-layer convention (random
augmentation meant to be off at inference) is flagged on 3.0–3.15 only, for
the leak. It is recognised by its name or base (Random…, …Augment…,
…Preprocess…, Jitter, MixUp, CutMix, Keras augmentation layers), by a
``call`` that gates random operations on ``training``, or by a ``call`` that
ignores ``training`` altogether (nothing to override, only the leak). Only
classes that derive from a Keras layer or model (or from a base the file
cannot show, when the class defines ``call`` in a file that uses Keras).
"""
from __future__ import annotations

import re
from typing import Optional, Set

import libcst as cst

from ..analysis import keras_knowledge as kk
from ..analysis.class_uses import uses
from ._evidence import rules_out_mode_layers
from ..analysis.keras_knowledge import Tri
from ..analysis.layer_calls import LayerCalls, layer_call_methods, layer_calls, reads_name, training_param
from ..analysis.names import dotted
from ..analysis.file_kinds import KERAS_ITSELF, TEST
from ..engine.rule import Rule
from ..engine.versions import ALL, KERAS3_TO_315
from ..engine.walker import iter_descendants

_CONVENTION_NAME = re.compile(r"Random|Augment|Preprocess|Jitter|Mix[Uu]p|CutMix|Cut[Oo]ut")


class CallDefaultTrainingTrue(Rule):
    code = "KM301"
    name = "call-default-training-true"
    summary = (
        "`call(..., training=True)` does not force training mode: predict/evaluate "
        "pass False, a bare call trains, and Keras 3.0-3.15 leaks it to later layers"
    )
    versions = ALL
    quiet_in = frozenset({KERAS_ITSELF, TEST})

    def __init__(self, context) -> None:
        super().__init__(context)
        self.candidates = set()  # ids of `call` methods defaulting to training=True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value == "call":
            param = training_param(node)
            if param is not None and _is_true(param.default):
                self.candidates.add(id(node))

    def leave_Module(self, node: cst.Module) -> None:
        if not self.candidates:
            return  # no need for the layer index
        index = layer_calls(self.context)
        leaks = self.context.keras_version in KERAS3_TO_315
        for cls, function in layer_call_methods(index):
            if id(function) not in self.candidates:
                continue
            param = training_param(function)
            name = cls.name.value
            convention = _convention(index, cls, function)
            if convention is not None:
                if leaks and self._leak_can_reach_a_mode_layer(name):
                    self.report(param, f"`{name}.call`'s default `training=True` leaks to later layers (Keras "
                                "3.0-3.15); upgrade or pass `training=False`",
                                explanation=_leak_only_message(name, convention))
                continue
            if self._holds_nothing_mode_dependent(cls, function):
                continue  # the default only steers the class's own, mode-free code
            if uses(self.context, name).every_call_passes_training:
                continue  # the default is never used
            self.report(param, _brief(name, leaks), explanation=_message(name, leaks))

    def _holds_nothing_mode_dependent(self, cls: cst.ClassDef, function: cst.FunctionDef) -> bool:
        if self.context.models.of_class(cls).any is not Tri.NO:
            return False
        built = _self_attributes_assigned(cls)
        for node in iter_descendants(function.body):
            if isinstance(node, cst.Call):
                callee = dotted(node.func) or ""
                if callee.startswith("self.") and callee.count(".") == 1 and callee[5:] not in built:
                    return False  # a sublayer the class does not build: unseen
        return True

    def _leak_can_reach_a_mode_layer(self, name: str) -> bool:
        """The leak needs a mode-dependent layer called after it in the same
        outer call: the class must be seen inside another model (a
        Sequential, a functional graph, another layer's attribute) in a file
        that can hold such a layer. A class used only standalone, or never
        seen used, is left alone."""
        return uses(self.context, name).nested and not rules_out_mode_layers(self.context)


def _is_true(node: Optional[cst.CSTNode]) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _convention(index: LayerCalls, cls: cst.ClassDef, function: cst.FunctionDef) -> Optional[str]:
    """Why this layer follows the preprocessing-layer convention, or None."""
    names = [cls.name.value]
    for arg in cls.bases:
        base = dotted(arg.value)
        if base:
            names.append(base.rsplit(".", 1)[-1])
    builtin = index.builtin_base(cls)
    if builtin:
        names.append(builtin)
    for name in names:
        if name in kk.AUGMENTATION or name in kk.KERAS3_DEFAULT_TRAINING_TRUE or _CONVENTION_NAME.search(name):
            return "augmentation"
    if not reads_name(function.body, "training"):
        return "ignored"
    for node in iter_descendants(function.body):
        if isinstance(node, cst.Call):
            callee = (dotted(node.func) or "").lower()
            if "random" in callee or "augment" in callee:
                return "augmentation"
    return None


def _brief(name: str, leaks: bool) -> str:
    bare = "on and leaking in bare calls" if leaks else "on in bare calls"
    return f"`{name}.call` defaults to `training=True`: off in predict(), {bare}; use `training=None`"


def _message(name: str, leaks: bool) -> str:
    text = (
        f"`{name}.call` defaults to `training=True`, which does not force training mode: "
        "predict(), evaluate() and any outer call with training=False pass False, so "
        "an always-on layer (e.g. MC dropout) is off at inference, while a bare "
        f"`{name}()(x)` or `model(x)` runs it in training mode (Dropout drops, "
        "BatchNormalization uses and updates batch statistics)."
    )
    if leaks:
        text += (
            " In Keras 3.0-3.15 the default also leaks: when nothing set `training`, "
            "every layer called after it in the same outer call runs in training mode too "
            "(keras-hub#2495, fixed in Keras 3.16)."
        )
    return text + (
        " Default to `training=None` and pass `training=True` where training mode is meant; "
        "to keep it always on, ignore the argument inside `call`."
    )


def _leak_only_message(name: str, why: str) -> str:
    lead = (
        f"`{name}.call` defaults to `training=True` (the augmentation-layer convention)"
        if why == "augmentation"
        else f"`{name}.call` defaults to `training=True` and ignores it"
    )
    return (
        f"{lead}: in Keras 3.0-3.15 that default leaks. In a call where nothing set "
        "`training` (a bare `model(x)`), Keras stores it in the context shared by the outer "
        "call, so every layer called after it without `training=` (a BatchNormalization, "
        "a Dropout) also runs in training mode (keras-hub#2495; fixed in Keras 3.16 by "
        "keras-team/keras#23166). Upgrade to Keras 3.16+, or call the model with an "
        "explicit `training=False` for inference (predict() and evaluate() already do)."
    )


def _self_attributes_assigned(cls: cst.ClassDef) -> Set[str]:
    found: Set[str] = set()
    for node in iter_descendants(cls.body):
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                text = dotted(target) or ""
                if text.startswith("self.") and text.count(".") == 1:
                    found.add(text[5:])
    return found
