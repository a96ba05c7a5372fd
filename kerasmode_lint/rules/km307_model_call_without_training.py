"""KM307 model-call-without-training (docs/semantics.md R19; Keras 3 only).

A top-level subclassed ``Model`` whose ``call`` has no ``training``
parameter: Keras 3's trainers call the model with ``training=True`` only when
its ``call`` declares that parameter (``_call_has_training_arg``; ``**kwargs``
does not count), so ``fit`` calls it without one and its sublayers receive
None: Dropout never drops and BatchNormalization never updates its
statistics. tf_keras puts the model's call context in training mode whatever
its signature, so the same code trained under Keras 2.

The finding is reported on ``def call``, where the fix goes: add
``training=None`` and forward it to the sublayers.

Precision: only Model subclasses (not plain layers), not used in the file
only as a layer of another model (the outer call context does reach their
sublayers); not classes that override ``train_step`` (their step decides
how ``self`` is called; KM102's ground); only when ``call`` calls a sublayer
the class builds from layers that behave differently in training
(Dropout, BatchNormalization, augmentation, a Sequential or helper holding
them). On the JAX backend Keras 3.0-3.15, KM306 reports each such sublayer
call instead.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from ..analysis import keras_knowledge as kk
from ..analysis.file_kinds import KERAS_ITSELF, TEST
from ..analysis.keras_knowledge import Tri
from ..analysis.names import dotted
from ..engine.rule import Rule
from ..analysis.subclasses import ClassContents, ClassInfo, is_model_class, positional_training
from ..engine.versions import KERAS3, KERAS3_TO_315
from ..engine.walker import iter_descendants
from ._top_level import mode_free_by_construction, only_nested


class ModelCallWithoutTraining(Rule):
    code = "KM307"
    name = "model-call-without-training"
    summary = (
        "Subclassed Model's `call` has no `training` parameter: Keras 3's `fit` then passes none, "
        "so its Dropout and BatchNormalization never train"
    )
    versions = KERAS3
    # Keras's own models and tests call their models as they mean to (and a
    # test's tiny fit is not a training run): like KM301, silent there.
    quiet_in = frozenset({KERAS_ITSELF, TEST})

    def __init__(self, context) -> None:
        super().__init__(context)
        self.candidates: List[Tuple[cst.ClassDef, cst.FunctionDef]] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        body = [m for m in node.body.body if isinstance(m, cst.FunctionDef)]
        names = {m.name.value for m in body}
        if "train_step" in names:
            return  # the class's own step decides how it is called
        for member in body:
            if member.name.value == "call" and not _declares_training(member):
                self.candidates.append((node, member))

    def leave_Module(self, node: cst.Module) -> None:
        if not self.candidates:
            return
        context = self.context
        if context.keras_backend == "jax" and context.keras_version in KERAS3_TO_315:
            return  # KM306 reports each sublayer call there
        classes = context.models.index.classes
        for cls, function in self.candidates:
            if not is_model_class(cls, context.imports, classes):
                continue
            if only_nested(context, cls.name.value):
                continue
            victim = self._victim(cls, function, classes)
            if victim is not None:
                self.report(function.name, _message(cls, victim), explanation=_explanation(cls, victim))

    def _victim(self, cls: cst.ClassDef, function: cst.FunctionDef, classes) -> Optional[Tuple[str, str]]:
        """The first ``self.<attr>(...)`` in ``call`` whose layer behaves
        differently in training, with what it is (``(shown, class name)``)."""
        contents = ClassContents(ClassInfo.of(cls), self.context.models, self.context.imports)
        for sub in iter_descendants(function.body):
            if not isinstance(sub, cst.Call) or _passes_flag(sub):
                continue
            callee = dotted(sub.func) or ""
            if not callee.startswith("self.") or callee.count(".") != 1:
                continue
            attr = callee.split(".", 1)[1]
            if contents.of_attribute(attr) is not Tri.YES:
                continue
            if mode_free_by_construction(cls, attr, classes):
                continue
            return callee, _class_of(cls, attr)
        return None


def _declares_training(function: cst.FunctionDef) -> bool:
    """A ``training`` parameter, or a flag under another name (``is_training``):
    code that passes its own flag manages the mode itself (custom loops)."""
    params = function.params
    return any(
        kk.TRAINING_FLAG_NAME.fullmatch(p.name.value.lower()) is not None
        for p in (*params.params, *params.kwonly_params, *params.posonly_params)
    )


def _passes_flag(call: cst.Call) -> bool:
    """An explicit flag on the sublayer call. ``**kwargs`` does not count: with
    no ``training`` parameter, ``fit`` puts nothing in them (R19)."""
    return any(
        arg.keyword is not None and kk.TRAINING_FLAG_NAME.fullmatch(arg.keyword.value.lower()) is not None
        for arg in call.args
    ) or positional_training(call) is not None


def _class_of(cls: cst.ClassDef, attr: str) -> str:
    """The class name ``self.<attr>`` is built from in the class, or ''."""
    for node in iter_descendants(cls.body):
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.value, cst.Call):
            if dotted(node.targets[0].target) == f"self.{attr}":
                return (dotted(node.value.func) or "").rsplit(".", 1)[-1]
    return ""


def _message(cls: cst.ClassDef, victim: Tuple[str, str]) -> str:
    shown, class_name = victim
    if class_name in kk.DROPOUT_LIKE:
        effect = "never drops"
    elif class_name in kk.BATCHNORM_LIKE:
        effect = "never updates its stats"
    else:
        effect = "runs in inference mode"
    return (
        f"`{cls.name.value}.call` takes no `training`: in fit() `{shown}` {effect}; pass `training`"
    )


def _explanation(cls: cst.ClassDef, victim: Tuple[str, str]) -> str:
    shown, _ = victim
    name = cls.name.value
    return (
        f"On the TensorFlow backend, Keras 3 hands the training flag of fit() to a model's `call` only "
        f"through a `training` parameter. `{name}.call` takes none, so the layers it calls, such as "
        f"`{shown}`, run in inference mode during fit(): Dropout never drops and BatchNormalization never "
        f"updates its moving statistics (tf_keras trains them). Add `training=None` to `{name}.call` and "
        "pass `training=training` to the layers it calls (docs/semantics.md)."
    )
