"""Shared by the rules that report a wrong ``training`` value: what that value
does to the model at hand, said only of the layers it is known to hold.

Not a rule. A message must not claim "Dropout does not drop" for a model
without Dropout: it names the kinds of mode-dependent layer that the model
contents analysis saw (YES), and when it could see nothing either way
(UNKNOWN: built elsewhere, loaded from disk, passed in), it says so and states
the consequence conditionally.
"""
from __future__ import annotations

from ..keras_knowledge import Tri
from ..model_contents import Contents

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


def _join(parts) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]
