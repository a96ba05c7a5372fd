"""Shared by the rules that report a wrong ``training`` value: what that value
does to the model at hand, said only of the layers it is known to hold.

Not a rule. A message must not claim "Dropout does not drop" for a model
without Dropout: it names the kinds of mode-dependent layer that the model
contents analysis saw (YES), and when it could see nothing either way
(UNKNOWN: built elsewhere, loaded from disk, passed in), it says so and states
the consequence conditionally.
"""
from __future__ import annotations

from dataclasses import replace

from ..analysis.keras_knowledge import Tri
from ..analysis.model_contents import Contents

# What each kind does when a call runs in inference mode / in training mode.
_INFERENCE = {
    "dropout": "its Dropout does not drop",
    "batchnorm": "its BatchNormalization uses, and never updates, its moving statistics",
    "other": "its random augmentation does not run",
}
_INFERENCE_IF = "any Dropout in it would not drop and any BatchNormalization would not update its moving statistics"
_TRAINING = {
    "dropout": "its Dropout drops",
    "batchnorm": "its BatchNormalization normalises with batch statistics and overwrites its moving statistics",
    "other": "its random augmentation runs",
}
_TRAINING_IF = "any Dropout in it would drop and any BatchNormalization would overwrite its moving statistics"
_KINDS = ("dropout", "batchnorm", "other")
# The same in a few words, for one-sentence messages (the sentences above go
# to the explanation).
_INFERENCE_BRIEF = {"dropout": "Dropout off", "batchnorm": "BatchNorm frozen", "other": "augmentation off"}
_TRAINING_BRIEF = {"dropout": "Dropout on", "batchnorm": "BatchNorm stats updated", "other": "augmentation on"}
_UNSEEN_BRIEF = "its layers could not be seen"


def _effect(contents: Contents, table, conditional: str) -> str:
    seen = [table[kind] for kind in _KINDS if contents.kind(kind) is Tri.YES]
    if seen:
        return _join(seen)
    return "its layers could not be seen: " + conditional


def inference_effect(contents: Contents) -> str:
    """``its Dropout does not drop and its BatchNormalization …`` (only the kinds
    present), or a conditional sentence when the contents are unknown."""
    return _effect(contents, _INFERENCE, _INFERENCE_IF)


def training_effect(contents: Contents) -> str:
    """The same for a call that runs in training mode."""
    return _effect(contents, _TRAINING, _TRAINING_IF)


def _brief(contents: Contents, table) -> str:
    seen = [table[kind] for kind in _KINDS if contents.kind(kind) is Tri.YES]
    return ", ".join(seen) if seen else _UNSEEN_BRIEF


def inference_brief(contents: Contents) -> str:
    """``Dropout off, BatchNorm stats frozen`` (only the kinds present), or
    ``its layers could not be seen``."""
    return _brief(contents, _INFERENCE_BRIEF)


def training_brief(contents: Contents) -> str:
    """``Dropout on, BatchNorm stats updated``, or ``its layers could not be seen``."""
    return _brief(contents, _TRAINING_BRIEF)


def _join(parts) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def unpinned(contents: Contents, version, outer_passes_none: bool = False) -> Contents:
    """The kinds a call's mode reaches. A kind held only by sublayers a
    class's ``call`` pins ("all:") keeps its mode in every version. A kind
    held only by graph nodes with a literal ``training=`` keeps its own mode
    where node pins hold: Keras 2 and 3.16+, and in every version for a call
    that passes no ``training`` (`outer_passes_none`); Keras 3.0-3.15 let an
    outer True/False override them. 3.16 also passes a literal None through
    ("316:"). A message must not say the call changes such a kind."""
    from ..engine.versions import KERAS3_TO_315

    if not contents.pinned:
        return contents
    prefixes = ["all:"]
    if outer_passes_none or version not in KERAS3_TO_315:
        prefixes.append("")
    if not version.is_keras2 and version not in KERAS3_TO_315:
        prefixes.append("316:")
    kinds = [kind for kind in ("dropout", "batchnorm", "other")
             if any(prefix + kind in contents.pinned for prefix in prefixes)]
    return replace(contents, **{kind: Tri.NO for kind in kinds}) if kinds else contents
