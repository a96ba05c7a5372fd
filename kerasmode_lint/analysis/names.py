"""Which Keras or TensorFlow object an expression names.

Tracks ``import``/``from … import`` aliases of the modules we care about in
one pass (no libcst metadata: QualifiedNameProvider alone costs several times
the parse) and maps every spelling of Keras to one canonical ``keras.…`` name,
so rules can ask "is this ``keras.layers.Dropout``?" whatever the file wrote:
``tf.keras.layers.Dropout``, ``L.Dropout``, ``tf_keras.layers.Dropout`` …
"""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

# Top-level packages whose names we resolve; anything else is not Keras.
TRACKED_ROOTS = frozenset(
    {
        "keras", "tensorflow", "tf_keras", "keras_core", "keras_hub",
        "keras_cv", "keras_nlp", "tensorflow_hub",
    }
)

# Spellings of the Keras API, longest first, rewritten to "keras".
_KERAS_PREFIXES = (
    # KerasCV and KerasNLP re-export Keras itself as their `backend.keras`.
    "keras_cv.src.backend.keras",
    "keras_nlp.src.backend.keras",
    "keras_cv.backend.keras",
    "keras_nlp.backend.keras",
    "tensorflow.compat.v1.keras",
    "tensorflow.compat.v2.keras",
    "tensorflow.python.keras",
    "tensorflow.keras",
    "tf_keras",
    "keras_core",
    "keras.src",
    "keras.api",
)


def canonical(qualified: str) -> str:
    """``tensorflow.keras.layers.Dropout`` -> ``keras.layers.Dropout``."""
    for prefix in _KERAS_PREFIXES:
        if qualified == prefix or qualified.startswith(prefix + "."):
            return "keras" + qualified[len(prefix):]
    return qualified


def dotted(node: cst.CSTNode) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        parts.reverse()
        return ".".join(parts)
    return None


def _module_name(node: cst.CSTNode) -> str:
    return dotted(node) or ""


class ImportTracker:
    """Local name -> qualified name of the tracked modules, fed by the engine
    as the walk meets import statements (so it knows what precedes a node)."""

    def __init__(self) -> None:
        self.aliases: Dict[str, str] = {}
        self.star_modules: List[str] = []
        self.function_depth = 0

    # Assignments inside a function bind local names: ``layers = []`` in one
    # function must not make the module's ``layers = keras.layers`` unknown to
    # every rule for the rest of the file. Imports count wherever they are.
    def enter_function(self, node: cst.CSTNode) -> None:
        self.function_depth += 1

    def leave_function(self, node: cst.CSTNode) -> None:
        self.function_depth -= 1

    # -- feeding -----------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = _module_name(alias.name)
            if name.split(".", 1)[0] not in TRACKED_ROOTS:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.aliases[alias.asname.name.value] = name
            else:
                root = name.split(".", 1)[0]
                self.aliases[root] = root

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = _module_name(node.module)
        if module.split(".", 1)[0] not in TRACKED_ROOTS:
            return
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.append(module)
            return
        for alias in node.names:
            name = _module_name(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.aliases[local] = f"{module}.{name}"

    def visit_Assign(self, node: cst.Assign) -> None:
        # ``keras = tf.keras`` / ``layers = keras.layers``: a common way to alias.
        if len(node.targets) != 1 or self.function_depth:
            return
        target = node.targets[0].target
        if not isinstance(target, cst.Name):
            return
        if isinstance(node.value, (cst.Name, cst.Attribute)):
            resolved = self.resolve(node.value)
            if resolved is not None:
                self.aliases[target.value] = resolved
                return
        # Rebinding a tracked alias to something else ends the alias.
        self.aliases.pop(target.value, None)

    # -- querying ----------------------------------------------------------
    def resolve(self, node: cst.CSTNode) -> Optional[str]:
        """Canonical qualified name of a Name/Attribute chain, or None."""
        name = dotted(node)
        if name is None:
            return None
        return self.resolve_dotted(name)

    def resolve_dotted(self, name: str) -> Optional[str]:
        head, _, rest = name.partition(".")
        base = self.aliases.get(head)
        if base is None:
            if not self.star_modules:
                return None
            base = f"{self.star_modules[-1]}.{head}"
        full = f"{base}.{rest}" if rest else base
        return canonical(full)

    def resolves_to(self, node: cst.CSTNode, *qualified: str) -> bool:
        return self.resolve(node) in qualified

    @property
    def mentions_keras(self) -> bool:
        return bool(self.aliases) or bool(self.star_modules)


def keras_class(qualified: Optional[str]) -> Optional[str]:
    """``keras.layers.Dropout`` -> ``Dropout``; None for non-Keras names."""
    if qualified is None or not qualified.startswith("keras."):
        return None
    return qualified.rsplit(".", 1)[1]
