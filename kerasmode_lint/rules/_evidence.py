"""Shared by KM101 and KM102: when a model's contents are UNKNOWN, may the
file itself rule out mode-dependent layers?

Not a rule. The model contents analysis answers UNKNOWN for a model it cannot
follow (built by a method, passed through several hands, returned by a
builder object). If the code of the file names no mode-dependent layer at all
(no Dropout-like, BatchNormalization-like or random augmentation class, no
``dropout`` argument or ``tf.nn.dropout``, no ``training=training`` forwarded),
obtains no model it cannot see (``keras.applications``, ``load_model``, hub,
presets, a model-zoo package) and the modules of the linted project it imports
(found beside the file or above it, followed through their own imports) name
none either, then whatever it builds has nothing that behaves differently in
training: the finding would be harmless, so the rules stay silent. Comments
and strings do not count: only names used in code.
"""
from __future__ import annotations

import ast
import os
from typing import Dict, List, Optional, Tuple

from ..engine import project
from ..analysis.keras_knowledge import AUGMENTATION, BATCHNORM_LIKE, DROPOUT_LIKE, OPAQUE_MODEL_SOURCES

_MODE_NAMES = frozenset(DROPOUT_LIKE | BATCHNORM_LIKE | AUGMENTATION | (OPAQUE_MODEL_SOURCES - {"load"}) | {"applications"})

# Packages that hand out ready-made models (their contents cannot be seen here).
_MODEL_ZOOS = frozenset(
    {
        "keras_hub", "keras_cv", "keras_nlp", "tensorflow_hub", "transformers", "official",
        "segmentation_models", "efficientnet", "classification_models", "keras_cv_attention_models",
        "tfimm", "tensorflow_models", "tf_models", "vit_keras", "keras_applications",
    }
)
_MAX_MODULES = 40  # project modules followed per file; beyond that: cannot tell
_Imports = List[Tuple[str, int]]  # (dotted module, relative level)
# Per process: a project module's (names a mode layer?, its imports), by path and mtime.
_MODULE_SUMMARIES: Dict[Tuple[str, project.Stamp], Optional[Tuple[bool, _Imports]]] = {}


def rules_out_mode_layers(context) -> bool:
    """True when the file shows that no model it builds can hold a
    mode-dependent layer (computed once per file)."""
    cached = getattr(context, "_no_mode_layers", None)
    if cached is None:
        summary = _summarise(context.source)
        folder = os.path.dirname(os.path.abspath(context.path)) if context.path not in ("", "-") else None
        cached = summary is not None and not summary[0] and _imports_model_free(summary[1], folder)
        context._no_mode_layers = cached
    return cached


def _summarise(source: str) -> Optional[Tuple[bool, _Imports]]:
    """(does the code name a mode-dependent layer or an opaque model source?,
    the modules it imports); None when Python cannot parse it."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    mode = False
    imports: _Imports = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            mode = mode or _is_mode_name(node.id)
        elif isinstance(node, ast.Attribute):
            mode = mode or _is_mode_name(node.attr) or (
                node.attr == "load" and isinstance(node.value, ast.Attribute) and node.value.attr == "saved_model"
            )
        elif isinstance(node, ast.keyword) and node.arg is not None:
            mode = mode or "dropout" in node.arg.lower() or (
                node.arg == "training" and isinstance(node.value, ast.Name) and node.value.id == "training"
            )
        elif isinstance(node, ast.Import):
            imports += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            imports.append((module, node.level))
            # ``from pkg import sub``: ``sub`` may be a module of the project.
            imports += [(f"{module}.{alias.name}" if module else alias.name, node.level)
                        for alias in node.names if alias.name != "*"]
    return mode, imports


def _is_mode_name(name: str) -> bool:
    if name in _MODE_NAMES:
        return True
    lower = name.lower()
    return "dropout" in lower or "batchnorm" in lower or "batch_norm" in lower


def _imports_model_free(imports: _Imports, folder: Optional[str]) -> bool:
    """No model zoo, and every project module reached names no mode layer."""
    todo = [(module, level, folder) for module, level in imports]
    done = set()
    while todo:
        module, level, where = todo.pop()
        root = module.split(".", 1)[0]
        if level == 0 and root in _MODEL_ZOOS:
            return False
        path = project.module_file(module, level, where)
        if path is False:
            return False  # the project's own module, but not found: cannot tell
        if path is None or path in done:
            continue  # not the project's (the standard library, TensorFlow …)
        done.add(path)
        if len(done) > _MAX_MODULES:
            return False
        summary = _module_summary(path)
        if summary is None or summary[0]:
            return False
        here = os.path.dirname(path)
        todo += [(m, lvl, here) for m, lvl in summary[1]]
    return True


def _module_summary(path: str) -> Optional[Tuple[bool, _Imports]]:
    if path == "":
        return (False, [])
    key = (path, project.stamp(path))
    if key not in _MODULE_SUMMARIES:
        data = project.read(path)
        _MODULE_SUMMARIES[key] = None if data is None else _summarise(data.decode("utf-8", "replace"))
    return _MODULE_SUMMARIES[key]
