"""Shared by KM101 and KM102: when a model's contents are UNKNOWN, may the
file itself rule out mode-dependent layers?

Not a rule. The model contents analysis answers UNKNOWN for a model it cannot
follow (built by a method, passed through several hands, returned by a
builder object). If the file names no mode-dependent layer at all (no
Dropout-like, BatchNormalization-like or random augmentation class, no
``dropout`` argument or ``tf.nn.dropout``, no ``training`` forwarded inside a
``call``), obtains no model it cannot see (``keras.applications``,
``load_model``, hub, presets, or anything imported from a package that may
ship models, the linted project's own modules included), then whatever it
builds has nothing that behaves differently in training: the finding would be
harmless, so the rules stay silent.
"""
from __future__ import annotations

import re
import sys

import libcst as cst

from ..keras_knowledge import AUGMENTATION, BATCHNORM_LIKE, DROPOUT_LIKE, OPAQUE_MODEL_SOURCES
from ..walker import iter_descendants

_MODE_WORDS = re.compile(
    "|".join(sorted(DROPOUT_LIKE | BATCHNORM_LIKE | AUGMENTATION | OPAQUE_MODEL_SOURCES, key=len, reverse=True))
    + r"|dropout|batch_?norm|applications|keras_hub|keras_cv|keras_nlp|tensorflow_hub|training\s*=\s*training",
    re.IGNORECASE,
)

# Packages that never hand a file a Keras model it cannot see.
_NO_MODEL_PACKAGES = frozenset(
    {
        "tensorflow", "keras", "tf_keras", "numpy", "pandas", "matplotlib", "seaborn", "scipy",
        "sklearn", "PIL", "cv2", "tqdm", "tensorflow_datasets", "IPython", "imageio", "h5py",
        "absl", "plotly", "skimage", "tensorflow_io", "tensorflow_addons", "__future__",
    }
)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) or frozenset(
    {"os", "sys", "math", "time", "random", "json", "glob", "pathlib", "argparse", "typing",
     "functools", "collections", "itertools", "re", "datetime", "logging", "shutil", "io",
     "zipfile", "tarfile", "pickle", "string", "dataclasses", "abc", "copy", "warnings"}
)


def rules_out_mode_layers(context) -> bool:
    """True when the file shows that no model it builds can hold a
    mode-dependent layer (computed once per file)."""
    cached = getattr(context, "_no_mode_layers", None)
    if cached is None:
        cached = _MODE_WORDS.search(context.source) is None and _imports_only_model_free(context.module)
        context._no_mode_layers = cached
    return cached


def _imports_only_model_free(module: cst.Module) -> bool:
    for node in iter_descendants(module):
        if isinstance(node, cst.Import):
            roots = [_root(alias.name) for alias in node.names]
        elif isinstance(node, cst.ImportFrom):
            if node.relative:
                return False  # the project's own module: it may build anything
            roots = [_root(node.module)] if node.module is not None else []
        else:
            continue
        if any(root not in _NO_MODEL_PACKAGES and root not in _STDLIB for root in roots):
            return False
    return True


def _root(node) -> str:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else ""
