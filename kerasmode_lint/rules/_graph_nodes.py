"""Shared by KM201, KM202 and KM203: what a sub-model used as a graph node
risks in ``fit`` when its ``training`` value is not the one the author meant.

Not a rule. The facts are docs/semantics.md R1, R2, R11, R12: ``trainable=False``
puts BatchNormalization in inference mode but leaves Dropout active; a
BatchNormalization made trainable again runs in training mode (and updates its
moving statistics) whenever ``fit`` passes ``training=True``; setting its
``trainable=False`` again after the unfreezing keeps it in inference mode.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import libcst as cst

from ..analysis.keras_knowledge import Tri
from ..analysis.model_contents import Contents, ModelContents, TrainingState
from ..analysis.names import dotted


@dataclass(frozen=True)
class Callee:
    """The object a graph node calls."""

    label: str  # how messages name it: "base", "Dropout(...)"
    contents: Contents
    state: TrainingState


@dataclass(frozen=True)
class Risk:
    """What goes wrong when this object runs in training mode during ``fit``."""

    dropout: Tri  # YES: its Dropout layers drop; UNKNOWN: they may
    batchnorm: Tri  # YES: its BatchNormalization layers update their statistics; UNKNOWN: may

    def __bool__(self) -> bool:
        return self.dropout is not Tri.NO or self.batchnorm is not Tri.NO


NO_RISK = Risk(Tri.NO, Tri.NO)


def callee_of(models: ModelContents, call: cst.Call) -> Optional[Callee]:
    """``base`` for ``base(x)``; the built layer for ``Dropout(0.5)(x)``."""
    func = call.func
    name = dotted(func)
    if name is not None:
        if name in ("self", "super"):
            return None
        return Callee(name, models.contents_of_name(name, at=call), models.training_state(name, at=call))
    if isinstance(func, cst.Call):
        return constructed(models, func)
    return None


def is_frozen_constructor(ctor: cst.Call) -> bool:
    """``Ctor(..., trainable=False)``."""
    return any(
        arg.keyword is not None and arg.keyword.value == "trainable"
        and isinstance(arg.value, cst.Name) and arg.value.value == "False"
        for arg in ctor.args
    )


def constructed(models: ModelContents, ctor: cst.Call) -> Callee:
    """An object built inline (``hub.KerasLayer(url, trainable=False)``)."""
    label = (dotted(ctor.func) or "layer").rsplit(".", 1)[-1] + "(...)"
    return Callee(
        label, models.contents_of_expression(ctor), TrainingState(frozen=is_frozen_constructor(ctor))
    )


def training_risk(callee: Callee, meant_inference: bool) -> Risk:
    """The damage done when ``fit`` runs ``callee`` in training mode.

    ``meant_inference``: the author asked for inference mode explicitly
    (``training=False``), so an unfrozen object with unknown contents is
    a risk too; without it, only a frozen object is considered.
    """
    contents, state = callee.contents, callee.state
    if contents.ignores_training:
        return NO_RISK
    if contents.frozen_means_inference and not state.unfrozen:
        return NO_RISK
    if state.frozen and not state.unfrozen:
        # trainable=False keeps BatchNormalization in inference mode (R11);
        # only a Dropout that is known to be there is worth a finding.
        return Risk(Tri.YES if contents.dropout is Tri.YES else Tri.NO, Tri.NO)
    if not state.frozen and not meant_inference:
        return NO_RISK  # a trainable model in training mode: as intended
    batchnorm = Tri.NO if state.batchnorm_refrozen else contents.batchnorm
    dropout = contents.dropout
    if dropout is Tri.UNKNOWN and batchnorm is Tri.NO:
        dropout = Tri.NO  # nothing known to be at risk: stay silent
    return Risk(dropout, batchnorm)


def describe(callee: Callee, risk: Risk) -> Tuple[str, List[str]]:
    """The run-time consequences, as message fragments."""
    parts: List[str] = []
    if risk.dropout is not Tri.NO:
        whose = "its" if risk.dropout is Tri.YES else "any"
        parts.append(f"{whose} Dropout layers drop during `fit`")
    if risk.batchnorm is not Tri.NO:
        whose = "its" if risk.batchnorm is Tri.YES else "any"
        when = "once it is made trainable again, " if callee.state.frozen else ""
        parts.append(
            f"{when}{whose} BatchNormalization layers run in training mode and overwrite "
            "their moving statistics with your batches"
        )
    return ", and ".join(parts), parts


def dropout_clause(risk: Risk) -> str:
    """`` (its Dropout drops)`` when Dropout is at risk, for a one-sentence
    message (BatchNormalization's risk, often only once the object is
    unfrozen, is left to the explanation)."""
    if risk.dropout is Tri.NO:
        return ""
    return " (its Dropout drops)" if risk.dropout is Tri.YES else " (any Dropout in it drops)"


def has_training_argument(call: cst.Call) -> bool:
    """An explicit ``training=``, ``**kwargs``, or a second positional argument
    (positional ``training``: KM303's ground)."""
    positional = 0
    for arg in call.args:
        if arg.star == "**" or (arg.keyword is not None and arg.keyword.value == "training"):
            return True
        if arg.keyword is None and not arg.star:
            positional += 1
    return positional > 1


def training_keyword(call: cst.Call) -> Optional[cst.CSTNode]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "training":
            return arg.value
    return None
