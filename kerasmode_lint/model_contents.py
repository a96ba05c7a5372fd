"""Does the model or layer behind a name contain mode-dependent layers?

Most ``training`` mistakes only matter when the model really holds a layer
whose behaviour depends on the mode (Dropout, BatchNormalization, random
augmentation). This module answers that for a name used in a file, from what
the file itself shows: ``Sequential([...])`` and ``.add()``, functional graphs
(the layers built in the same function), helper functions and Layer/Model
subclasses defined in the file, ``keras.applications`` constructors. Whatever
the file cannot show (``load_model``, hub presets, imports from elsewhere) is
UNKNOWN, and each rule decides what UNKNOWN means for it.

The index is built lazily, on the first question, with one extra walk of the
tree: most files never ask.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Optional, Set

import libcst as cst

from . import keras_knowledge as kk
from .keras_knowledge import Tri
from .names import ImportTracker, dotted
from .walker import walk

_MAX_DEPTH = 8


class _Index:
    def __init__(self, module: cst.Module) -> None:
        self.assignments: Dict[str, List[cst.CSTNode]] = defaultdict(list)
        self.added: Dict[str, List[cst.CSTNode]] = defaultdict(list)  # x.add(layer)
        self.classes: Dict[str, cst.ClassDef] = {}
        self.functions: Dict[str, cst.FunctionDef] = {}
        # Constructor-like calls made directly in each scope (function,
        # class or module), keyed by id(scope node).
        self.scope_calls: Dict[int, List[cst.Call]] = defaultdict(list)
        self.scope_of_call: Dict[int, cst.CSTNode] = {}
        self._scopes: List[cst.CSTNode] = [module]
        walk(
            module,
            {
                cst.FunctionDef: [self._enter],
                cst.ClassDef: [self._enter],
                cst.Assign: [self._assign],
                cst.AnnAssign: [self._ann_assign],
                cst.Call: [self._call],
            },
            {cst.FunctionDef: [self._leave], cst.ClassDef: [self._leave]},
        )

    def _enter(self, node) -> None:
        if isinstance(node, cst.ClassDef):
            self.classes.setdefault(node.name.value, node)
        else:
            self.functions.setdefault(node.name.value, node)
        self._scopes.append(node)

    def _leave(self, node) -> None:
        self._scopes.pop()

    def _assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            name = dotted(target.target)
            if name is not None:
                self.assignments[name].append(node.value)

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        name = dotted(node.target)
        if name is not None and node.value is not None:
            self.assignments[name].append(node.value)

    def _call(self, node: cst.Call) -> None:
        scope = self._scopes[-1]
        self.scope_calls[id(scope)].append(node)
        self.scope_of_call[id(node)] = scope
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "add" and node.args:
            receiver = dotted(node.func.value)
            if receiver is not None:
                self.added[receiver].append(node.args[0].value)


class ModelContents:
    """Answers "does X contain mode-dependent layers?" for one file."""

    def __init__(self, module: cst.Module, imports: ImportTracker) -> None:
        self._module = module
        self._imports = imports
        self._index: Optional[_Index] = None

    @property
    def index(self) -> _Index:
        if self._index is None:
            self._index = _Index(self._module)
        return self._index

    # -- public questions ---------------------------------------------------
    def of_name(self, name: str) -> Tri:
        """Contents of the object bound to ``name`` (``model``, ``self.base``)."""
        return self._name(name, 0, set())

    def of_expression(self, node: cst.CSTNode) -> Tri:
        return self._expr(node, 0, set())

    def of_scope(self, node: cst.CSTNode) -> Tri:
        """Layers constructed in a function, a class (its methods) or the module body."""
        return self._scope(node, 0, set())

    # -- evaluation ---------------------------------------------------------
    def _name(self, name: str, depth: int, seen: Set[int]) -> Tri:
        index = self.index
        values = index.assignments.get(name, []) + index.added.get(name, [])
        if not values:
            return Tri.UNKNOWN  # a parameter, a global from elsewhere …
        return Tri.any_of(self._expr(v, depth + 1, seen) for v in values)

    def _expr(self, node: cst.CSTNode, depth: int, seen: Set[int]) -> Tri:
        if depth > _MAX_DEPTH or id(node) in seen:
            return Tri.UNKNOWN
        seen.add(id(node))
        if isinstance(node, (cst.Name, cst.Attribute)):
            name = dotted(node)
            return self._name(name, depth, seen) if name else Tri.UNKNOWN
        if isinstance(node, (cst.List, cst.Tuple)):
            return Tri.any_of(
                self._expr(el.value, depth + 1, seen) for el in node.elements
            )
        if isinstance(node, cst.Call):
            return self._call(node, depth, seen)
        return Tri.UNKNOWN

    def _call(self, node: cst.Call, depth: int, seen: Set[int]) -> Tri:
        if depth > _MAX_DEPTH:
            return Tri.UNKNOWN
        func = node.func
        if isinstance(func, cst.Call):
            # ``Layer(...)(x)``: the layer built by the inner call.
            return self._call(func, depth + 1, seen)
        qualified = self._imports.resolve(func)
        if qualified is not None:
            return self._keras_call(qualified, node, depth, seen)
        name = dotted(func)
        index = self.index
        if name in index.classes:
            return self._scope(index.classes[name], depth, seen)
        if name in index.functions:
            return self._scope(index.functions[name], depth, seen)
        if name is not None and name.rsplit(".", 1)[-1] in kk.OPAQUE_MODEL_SOURCES:
            return Tri.UNKNOWN
        return Tri.UNKNOWN

    def _keras_call(self, qualified: str, node: cst.Call, depth: int, seen: Set[int]) -> Tri:
        last = qualified.rsplit(".", 1)[-1]
        if not qualified.startswith("keras."):
            return Tri.UNKNOWN  # keras_hub presets, tensorflow_hub layers, tf.saved_model …
        if last in ("Input", "InputLayer"):
            return Tri.NO
        if qualified.startswith("keras.applications."):
            return Tri.NO if last in kk.APPLICATIONS_WITHOUT_MODE_LAYERS else Tri.YES
        if last == "Sequential":
            layers = [a.value for a in node.args[:1] if a.keyword is None]
            layers += [a.value for a in node.args if a.keyword and a.keyword.value == "layers"]
            return Tri.any_of(self._expr(v, depth + 1, seen) for v in layers)
        if last in ("Model", "Functional"):
            scope = self.index.scope_of_call.get(id(node))
            return self._scope(scope, depth, seen) if scope is not None else Tri.UNKNOWN
        if qualified.startswith("keras.layers."):
            return self._layer(last, node, depth, seen)
        return Tri.UNKNOWN

    def _layer(self, name: str, node: cst.Call, depth: int, seen: Set[int]) -> Tri:
        if name in kk.WRAPPERS and node.args:
            return self._expr(node.args[0].value, depth + 1, seen)
        rates = kk.DROPOUT_ARGUMENTS.get(name, ())
        has_rate = any(
            arg.keyword is not None
            and arg.keyword.value in rates
            and not _is_zero(arg.value)
            for arg in node.args
        )
        return kk.layer_class_mode_dependence(name, has_rate)

    def _scope(self, scope: cst.CSTNode, depth: int, seen: Set[int]) -> Tri:
        """Layers constructed in a function, class or module body."""
        if depth > _MAX_DEPTH:
            return Tri.UNKNOWN
        if id(scope) in seen:
            return Tri.NO  # already being evaluated: it adds nothing new
        seen.add(id(scope))
        calls = list(self.index.scope_calls.get(id(scope), []))
        if isinstance(scope, cst.ClassDef):
            # A class's layers are built in its methods.
            for member in scope.body.body:
                if isinstance(member, cst.FunctionDef):
                    calls.extend(self.index.scope_calls.get(id(member), []))
        answers = []
        for call in calls:
            if isinstance(call.func, cst.Call):
                # ``Block(...)(x)``: whatever ``Block`` is, it is a layer.
                answers.append(self._constructor(call.func, depth + 1, seen, applied=True))
            else:
                answers.append(self._constructor(call, depth + 1, seen))
        return Tri.any_of(answers)

    def _constructor(
        self, call: cst.Call, depth: int, seen: Set[int], applied: bool = False
    ) -> Tri:
        """A call met in a model-building scope: a layer, a sub-model, a helper,
        or noise. ``applied`` says its result is called on a tensor, so it is a
        layer even when we cannot see its class."""
        qualified = self._imports.resolve(call.func)
        if qualified is not None:
            if qualified.startswith(("keras.layers.", "keras.applications.")) or qualified in (
                "keras.Sequential", "keras.models.Sequential", "keras.Model",
                "keras.models.Model",
            ):
                return self._keras_call(qualified, call, depth, seen)
            return Tri.UNKNOWN if applied else Tri.NO  # keras.Input, keras.ops.*, tf.concat …
        name = dotted(call.func)
        index = self.index
        if name in index.classes or name in index.functions:
            return self._call(call, depth, seen)
        # print(), np.zeros(), self.method() are not layers; an unseen class
        # applied to a tensor is one we know nothing about.
        return Tri.UNKNOWN if applied else Tri.NO


def _is_zero(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.Integer, cst.Float)) and float(node.value) == 0.0


class BatchNormContents(ModelContents):
    """Answers "does X contain BatchNormalization?" (Dropout does not count).

    Same evaluation as ModelContents, sharing its index; only the leaves
    differ: a built-in layer is YES if it is batch normalisation and NO
    otherwise, and a ``keras.applications`` model is YES unless it is one of
    the families built without it.
    """

    def __init__(self, contents: ModelContents) -> None:
        super().__init__(contents._module, contents._imports)
        self._index = contents.index

    def _keras_call(self, qualified: str, node: cst.Call, depth: int, seen: Set[int]) -> Tri:
        if qualified.startswith("keras.applications."):
            last = qualified.rsplit(".", 1)[-1]
            return Tri.NO if last in kk.APPLICATIONS_WITHOUT_BATCHNORM else Tri.YES
        return super()._keras_call(qualified, node, depth, seen)

    def _layer(self, name: str, node: cst.Call, depth: int, seen: Set[int]) -> Tri:
        if name in kk.WRAPPERS and node.args:
            return self._expr(node.args[0].value, depth + 1, seen)
        if name in kk.BATCHNORM_LIKE:
            return Tri.YES
        known = kk.layer_class_mode_dependence(name, True)
        return Tri.UNKNOWN if known is Tri.UNKNOWN else Tri.NO
