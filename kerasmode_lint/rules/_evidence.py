"""Shared by KM101 and KM102: when a model's contents are UNKNOWN, may the
file itself rule out mode-dependent layers?

Not a rule. The model contents analysis answers UNKNOWN for a model it cannot
follow (built by a method, passed through several hands, returned by a
builder object). If the file names no mode-dependent layer at all (no
Dropout-like, BatchNormalization-like or random augmentation class, no
``dropout`` argument or ``tf.nn.dropout``, no ``training`` forwarded inside a
``call``), obtains no model it cannot see (``keras.applications``,
``load_model``, hub, presets, a model-zoo package, or a module of the linted
project: a relative import, or a module found beside the file or above it), then whatever it
builds has nothing that behaves differently in training: the finding would be
harmless, so the rules stay silent.
"""
from __future__ import annotations

import os
import re

import libcst as cst

from ..keras_knowledge import AUGMENTATION, BATCHNORM_LIKE, DROPOUT_LIKE, OPAQUE_MODEL_SOURCES
from ..walker import iter_descendants

_MODE_WORDS = re.compile(
    r"\b(?:"
    + "|".join(sorted(DROPOUT_LIKE | BATCHNORM_LIKE | AUGMENTATION | (OPAQUE_MODEL_SOURCES - {"load"}), key=len, reverse=True))
    + r")\b|dropout|batch_?norm|applications|saved_model\.load|training\s*=\s*training",
    re.IGNORECASE,
)

# Packages that hand out ready-made models (their contents cannot be seen here).
_MODEL_ZOOS = frozenset(
    {
        "keras_hub", "keras_cv", "keras_nlp", "tensorflow_hub", "transformers", "official",
        "segmentation_models", "efficientnet", "classification_models", "keras_cv_attention_models",
        "tfimm", "tensorflow_models", "tf_models", "vit_keras", "keras_applications",
    }
)


def rules_out_mode_layers(context) -> bool:
    """True when the file shows that no model it builds can hold a
    mode-dependent layer (computed once per file)."""
    cached = getattr(context, "_no_mode_layers", None)
    if cached is None:
        cached = _MODE_WORDS.search(context.source) is None and _imports_only_model_free(context)
        context._no_mode_layers = cached
    return cached


def _imports_only_model_free(context) -> bool:
    folder = os.path.dirname(os.path.abspath(context.path)) if context.path not in ("", "-") else None
    for node in iter_descendants(context.module):
        if isinstance(node, cst.Import):
            roots = [_root(alias.name) for alias in node.names]
        elif isinstance(node, cst.ImportFrom):
            if node.relative:
                return False  # the project's own module: it may build anything
            roots = [_root(node.module)] if node.module is not None else []
        else:
            continue
        if any(root in _MODEL_ZOOS or _is_local(folder, root) for root in roots):
            return False
    return True


def _is_local(folder, root: str) -> bool:
    """A module of the linted project: ``root.py`` or ``root/`` beside the file
    or in a folder above it (where Python would find it when run from there)."""
    for _ in range(6):
        if folder is None or not root:
            return False
        if os.path.isfile(os.path.join(folder, root + ".py")) or os.path.isdir(os.path.join(folder, root)):
            return True
        parent = os.path.dirname(folder)
        folder = None if parent == folder else parent
    return False


def _root(node) -> str:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else ""
