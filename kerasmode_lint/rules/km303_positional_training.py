"""KM303 positional-training (docs/semantics.md R10).

A bool literal or a ``training``/``is_training`` value passed positionally to
a Keras layer or model: ``layer(x, True)``, ``self.bn(x, training)``,
``model(x, False)``. Keras 3 rejects it: ``ValueError: Only input tensors may
be passed as positional arguments`` for layers, Sequential and subclassed
models, ``TypeError`` for functional models and preprocessing layers (a
tensor value is accepted and bound to the second parameter, not to
``training``). Keras 2 binds it by position: right for Dropout,
BatchNormalization, models and a custom ``call(x, training=None)``, silently
``mask=True`` for a custom ``call(x, mask=None, training=None)``,
``initial_state`` for RNN layers, ``key`` for MultiHeadAttention.

Precision: only calls the file shows to be layer or model calls
(``layer_calls``); ``self._block(x, training)`` to a method of the class and
helper functions are left alone. Under Keras 2 only positions known to miss
``training`` are flagged (from the built-in signatures in keras_knowledge
or the in-file ``call``), and a bool literal that lands on another bool
parameter (``return_attention_scores``, a parameter defaulting to
True/False) or on one named like ``training`` is taken as meant. A class
that sets ``_allow_non_tensor_positional_args`` is judged by its signature
under Keras 3 too.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from ..analysis import keras_knowledge as kk
from ..engine.fixes import Fix, insert_before
from ..analysis.layer_calls import Callee, layer_calls, positional_params, positional_training
from ..engine.rule import Rule
from ..engine.versions import ALL


class PositionalTraining(Rule):
    code = "KM303"
    name = "positional-training"
    summary = (
        "`training` passed positionally to a Keras layer or model: Keras 3 raises, "
        "Keras 2 may bind it to another parameter such as `mask`"
    )
    versions = ALL
    fix_safety = "safe"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.candidates: List[Tuple[cst.Call, int, cst.CSTNode]] = []

    def visit_Call(self, node: cst.Call) -> None:
        found = positional_training(node)
        if found is not None:
            self.candidates.append((node, found[0], found[1]))

    def leave_Module(self, node: cst.Module) -> None:
        if not self.candidates:
            return
        index = layer_calls(self.context)
        keras2 = self.context.keras_version.is_keras2
        for call, position, value in self.candidates:
            callee = index.callee(call)
            if callee is None:
                continue
            text = self.context.module.code_for_node(value)
            lenient = callee.classdef is not None and index.allows_positional(callee.classdef)
            if not (keras2 or lenient):
                self.report(call, f"`{callee.label}` gets `{text}` by position, which Keras 3 rejects; "
                            f"pass `training={text}`", explanation=_keras3_message(callee, text),
                            fix=self._by_keyword(index, callee, call, position))
                continue
            slot = self._slot(index, callee, position)
            if slot is None or not _misbound(slot, value):
                continue  # unknown, or it reaches `training` (or a bool parameter)
            who = "Keras 2" if keras2 else "this layer (it accepts non-tensor positional arguments)"
            self.report(call, _by_position_brief(callee, text, position, slot[0]),
                        explanation=_by_position_message(callee, text, position, slot[0], who))

    def _by_keyword(self, index, callee: Callee, call: cst.Call, position: int) -> Optional[Fix]:
        """``training=`` before the value, where Keras 2 binds that position to
        ``training`` and the keyword form is valid syntax (no positional
        argument after it, no ``training=`` already)."""
        slot = self._slot(index, callee, position)
        if slot is None or slot[0] != "training":
            return None
        arg = call.args[position]
        later = call.args[position + 1:]
        if any(a.keyword is None and a.star != "**" for a in later):
            return None
        if any(a.keyword is not None and a.keyword.value == "training" for a in later):
            return None
        if getattr(arg.value, "lpar", ()):
            return None  # ``(training)``: keep the edit to a plain name
        return Fix.safe("Pass `training` by keyword", [insert_before(arg.value, "training=")])

    def _slot(self, index, callee: Callee, position: int) -> Optional[Tuple[str, bool]]:
        """Where a positional argument lands when bound by position: (parameter
        name or "" when there is none, whether it takes a Python bool), or
        None when the signature is unknown."""
        if callee.classdef is not None:
            function = index.call_method(callee.classdef)
            if function is not None:
                params = positional_params(function)
                if params is None:
                    return None
                if position >= len(params):
                    return ("", False)
                param = params[position]
                default = param.default
                takes_bool = isinstance(default, cst.Name) and default.value in ("True", "False")
                return (param.name.value, takes_bool)
            builtin = index.builtin_base(callee.classdef)
            return _builtin_slot(builtin, position) if builtin else None
        return _builtin_slot(callee.class_name, position) if callee.builtin else None


def _builtin_slot(class_name: Optional[str], position: int) -> Optional[Tuple[str, bool]]:
    names = kk.KERAS2_CALL_POSITIONALS.get(class_name or "")
    if names is None:
        return None
    if position >= len(names):
        return ("", False)
    return (names[position], names[position] in kk.KERAS2_BOOL_PARAMETERS)


def _misbound(slot: Tuple[str, bool], value: cst.CSTNode) -> bool:
    """Does the value land somewhere it does not belong? A parameter named
    like ``training`` (``is_training``, ``train``) is where it belongs; a bool
    literal may also be meant for another bool parameter."""
    name, takes_bool = slot
    if "train" in name:
        return False
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return not takes_bool
    return True


def _keras3_message(callee: Callee, text: str) -> str:
    return (
        f"`{callee.label}` is a Keras layer or model called with `{text}` as a positional "
        "argument: Keras 3 raises (ValueError: \"Only input tensors may be passed as "
        "positional arguments\"; TypeError for functional models and preprocessing layers), "
        "and a tensor there would bind to the second parameter of `call`, not to `training`. "
        f"Pass it by keyword: `training={text}`."
    )


def _by_position_brief(callee: Callee, text: str, position: int, slot: str) -> str:
    lands = f"binds to `{slot}`" if slot else "does not reach `training`"
    return f"`{callee.label}` gets `{text}` as positional argument {position + 1}, which {lands}; pass `training={text}`"


def _by_position_message(callee: Callee, text: str, position: int, slot: str, who: str) -> str:
    where = (
        f"binds it to `{slot}`, not to `training`"
        if slot
        else "does not bind it to `training` (a TypeError, or another parameter such as "
        "`mask`, `initial_state` or `key`)"
    )
    return (
        f"`{callee.label}` is a Keras layer or model called with `{text}` as positional "
        f"argument {position + 1}: {who} {where}, so the layer never sees the mode you "
        f"meant (and Keras 3 rejects positional `training` on other layers). Pass it by keyword: "
        f"`training={text}`."
    )
