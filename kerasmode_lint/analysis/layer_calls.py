"""Is this the call of a Keras layer or model? Answered from what one file shows.

Several rules care only about ``Layer.__call__``: a positional ``training``
(KM303), a ``training=False`` pin leaking to later sublayers (KM304), a
literal ``training=None`` (KM305). ``self.bn(x, training)`` is a layer call
when the file builds ``self.bn`` from a Keras layer; ``self._block(x,
training)`` is a plain method call when ``_block`` is a method of the class;
anything the file does not show is unknown, and the rules stay silent then.

A callee is a layer when it is

* ``self.attr`` and every assignment of ``self.attr`` in the class (or an
  in-file base class) is a layer expression, ``attr`` not being a method;
* a name whose every binding in the innermost function that binds it (else
  the module) is a layer expression, or the loop variable of ``for name in
  <layers>`` (also through ``enumerate``/``reversed``);
* ``layers[i]`` for a collection of layers; ``Ctor(...)(...)``; ``self`` in a
  Layer or Model subclass.

Layer expressions are calls of ``keras.layers``/``keras.applications``
classes, ``Sequential``/``Model``/``load_model``-like factories,
keras_hub/keras_cv/keras_nlp layers and models (``from_preset`` included),
``tensorflow_hub.KerasLayer``, or an in-file Layer/Model subclass; a
conditional between those and ``None``; a name bound to one; a list,
tuple or comprehension of them (for collections). Parameters, ``with``
targets and anything unreadable make a name unknown.

The index is built once per file, lazily, with one extra walk; get it with
``layer_calls(context)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from .keras_knowledge import Tri
from .names import ImportTracker, dotted
from ..engine.walker import walk

_MAX_DEPTH = 6

# keras.models / keras.saving functions that return a model.
_MODEL_FACTORIES = frozenset(
    {"load_model", "clone_model", "model_from_json", "model_from_yaml", "model_from_config"}
)
# ``keras.<part>.X`` base classes that are not layers.
_NON_LAYER_PARTS = frozenset(
    {
        "callbacks", "losses", "metrics", "optimizers", "initializers",
        "regularizers", "constraints", "utils", "datasets", "preprocessing",
        "backend", "ops", "random", "mixed_precision", "quantizers", "dtype_policies",
    }
)
_KERAS_FAMILY = ("keras_hub.", "keras_cv.", "keras_nlp.")


@dataclass(frozen=True)
class Callee:
    """A callee the file shows to be a Keras layer or model."""

    label: str  # as written: "self.bn", "lstm", "layers.Dropout(...)"
    # Built-in class name ("Dropout", "Sequential", "Model"), in-file class
    # name, or None when the class is unknown or the bindings disagree.
    class_name: Optional[str]
    builtin: bool
    classdef: Optional[cst.ClassDef]
    constructors: Tuple[cst.CSTNode, ...]  # what it was built from


@dataclass
class _Scope:
    node: cst.CSTNode  # FunctionDef or Module
    parent: Optional["_Scope"]
    cls: Optional["_Class"]  # innermost class around this function (for ``self``)
    names: Dict[str, List[Tuple[cst.CSTNode, "_Scope"]]] = field(default_factory=dict)
    loops: Dict[str, List[Tuple[cst.CSTNode, "_Scope"]]] = field(default_factory=dict)
    opaque: Set[str] = field(default_factory=set)  # params, with-targets, unpacking …


@dataclass
class _Class:
    node: cst.ClassDef
    scope: _Scope  # where the class statement is
    methods: Dict[str, cst.FunctionDef] = field(default_factory=dict)
    attrs: Dict[str, List[Tuple[cst.CSTNode, _Scope]]] = field(default_factory=dict)
    appended: Dict[str, List[Tuple[cst.CSTNode, _Scope]]] = field(default_factory=dict)
    opaque: Set[str] = field(default_factory=set)
    allows_positional: bool = False  # sets _allow_non_tensor_positional_args


_Info = Tuple[Optional[str], bool, Optional[cst.ClassDef], Tuple[cst.CSTNode, ...]]


class LayerCalls:
    """One file's answers to "is this callee a Keras layer?"."""

    def __init__(self, module: cst.Module, imports: ImportTracker) -> None:
        self.imports = imports
        self.module_scope = _Scope(module, None, None)
        self.classes: Dict[str, _Class] = {}
        self.class_of: Dict[int, _Class] = {}  # id(ClassDef) -> _Class
        self.where: Dict[int, Tuple[Optional[_Class], _Scope, Tuple[cst.FunctionDef, ...]]] = {}
        self.all_classes: List[_Class] = []  # every class statement, in file order
        self._scopes: List[_Scope] = [self.module_scope]
        self._classes: List[Optional[_Class]] = [None]
        self._functions: List[cst.FunctionDef] = []
        self._status: Dict[int, Tri] = {}
        walk(
            module,
            {
                cst.ClassDef: [self._enter_class],
                cst.FunctionDef: [self._enter_function],
                cst.Assign: [self._assign],
                cst.AnnAssign: [self._ann_assign],
                cst.AugAssign: [self._aug_assign],
                cst.For: [self._for],
                cst.CompFor: [self._for],
                cst.With: [self._with],
                cst.Call: [self._call],
                cst.Lambda: [self._enter_lambda],
            },
            {
                cst.ClassDef: [self._leave_class],
                cst.FunctionDef: [self._leave_function],
                cst.Lambda: [self._leave_lambda],
            },
        )

    # -- building the index -------------------------------------------------
    def _enter_class(self, node: cst.ClassDef) -> None:
        info = _Class(node, self._scopes[-1])
        self.classes.setdefault(node.name.value, info)
        self.class_of[id(node)] = info
        self.all_classes.append(info)
        self._classes.append(info)

    def _leave_class(self, node: cst.ClassDef) -> None:
        self._classes.pop()

    def _enter_function(self, node: cst.FunctionDef) -> None:
        owner = self._classes[-1]
        if owner is not None and self._directly_in_class(owner):
            owner.methods.setdefault(node.name.value, node)
        scope = _Scope(node, self._scopes[-1], owner)
        scope.opaque.update(_parameter_names(node.params))
        self._scopes.append(scope)
        self._functions.append(node)
        self._classes.append(owner)  # ``self`` keeps meaning the class in nested functions

    def _leave_function(self, node: cst.FunctionDef) -> None:
        self._scopes.pop()
        self._functions.pop()
        self._classes.pop()

    def _enter_lambda(self, node: cst.Lambda) -> None:
        # Its parameters shadow outer names; what it calls belongs to it.
        scope = _Scope(node, self._scopes[-1], self._scopes[-1].cls)
        scope.opaque.update(_parameter_names(node.params))
        self._scopes.append(scope)

    def _leave_lambda(self, node: cst.Lambda) -> None:
        self._scopes.pop()

    def _directly_in_class(self, owner: _Class) -> bool:
        # A method: the innermost scope is the one the class statement is in.
        return self._scopes[-1] is owner.scope

    def _bind(self, target: cst.CSTNode, value: Optional[cst.CSTNode]) -> None:
        scope = self._scopes[-1]
        if isinstance(target, cst.Name):
            if value is None:
                scope.opaque.add(target.value)
            else:
                scope.names.setdefault(target.value, []).append((value, scope))
        elif isinstance(target, cst.Attribute) and _is_self(target.value):
            owner = scope.cls
            if owner is None or scope.node is self.module_scope.node:
                return
            if value is None:
                owner.opaque.add(target.attr.value)
            else:
                owner.attrs.setdefault(target.attr.value, []).append((value, scope))
            if target.attr.value == "_allow_non_tensor_positional_args":
                owner.allows_positional = True
        elif isinstance(target, (cst.Tuple, cst.List)):
            values = None
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(target.elements):
                values = [e.value for e in value.elements]
            for i, element in enumerate(target.elements):
                inner = element.value
                if isinstance(element, cst.StarredElement):
                    self._bind(inner, None)
                else:
                    self._bind(inner, values[i] if values is not None else None)

    def _assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)

    def _aug_assign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)

    def _with(self, node: cst.With) -> None:
        for item in node.items:
            if item.asname is not None:
                self._bind(item.asname.name, None)

    def _for(self, node) -> None:
        """``for`` statements and comprehension ``for`` clauses. A
        comprehension's target is bound in the enclosing function here (a
        simplification: a same-named variable of that function then needs
        both bindings to be layers to count as one)."""
        scope = self._scopes[-1]
        target, iterable = node.target, node.iter
        # for i, layer in enumerate(layers) / for layer in reversed(layers)
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.args:
            if iterable.func.value == "enumerate" and isinstance(target, cst.Tuple) and len(target.elements) == 2:
                self._bind(target.elements[0].value, None)
                target, iterable = target.elements[1].value, iterable.args[0].value
            elif iterable.func.value == "reversed":
                iterable = iterable.args[0].value
        if isinstance(target, cst.Name):
            scope.loops.setdefault(target.value, []).append((iterable, scope))
        else:
            self._bind(target, None)

    def _call(self, node: cst.Call) -> None:
        scope = self._scopes[-1]
        self.where[id(node)] = (self._classes[-1], scope, tuple(self._functions))
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in ("append", "extend")
            and isinstance(func.value, cst.Attribute)
            and _is_self(func.value.value)
            and scope.cls is not None
            and node.args
        ):
            attr = func.value.attr.value
            value = node.args[0].value
            if func.attr.value == "append":
                items = [value]
            elif isinstance(value, (cst.List, cst.Tuple)):
                items = [e.value for e in value.elements]
            else:
                scope.cls.opaque.add(attr)  # extend(<something unreadable>)
                return
            for item in items:
                scope.cls.appended.setdefault(attr, []).append((item, scope))

    # -- classes ------------------------------------------------------------
    def class_status(self, node: cst.ClassDef) -> Tri:
        """Is this class a Keras Layer/Model subclass? YES: a base is one
        (through in-file classes); NO: no base, or only ``object`` and
        non-layer Keras classes; UNKNOWN: a base this file cannot show."""
        return self._class_status(node, set())

    def _class_status(self, node: cst.ClassDef, seen: Set[int]) -> Tri:
        if id(node) in self._status:
            return self._status[id(node)]
        if id(node) in seen:
            return Tri.UNKNOWN
        seen.add(id(node))
        answers = []
        for arg in node.bases:
            if arg.keyword is not None or arg.star:
                continue
            answers.append(self._base_status(arg.value, seen))
        result = Tri.any_of(answers)
        self._status[id(node)] = result
        return result

    def _base_status(self, base: cst.CSTNode, seen: Set[int]) -> Tri:
        name = dotted(base)
        if name is None:
            return Tri.UNKNOWN  # e.g. a base chosen by a call
        if name == "object":
            return Tri.NO
        qualified = self.imports.resolve_dotted(name)
        if qualified is None and name in self.classes:
            return self._class_status(self.classes[name].node, seen)
        if qualified is None:
            return Tri.UNKNOWN
        if qualified == "tensorflow_hub.KerasLayer":
            return Tri.YES
        if qualified.startswith(_KERAS_FAMILY):
            return Tri.YES if (".layers." in qualified or ".models." in qualified) else Tri.UNKNOWN
        if not qualified.startswith("keras."):
            return Tri.NO if qualified.startswith("tensorflow.") else Tri.UNKNOWN
        parts = qualified.split(".")
        if qualified in ("keras.Layer", "keras.Model", "keras.Sequential"):
            return Tri.YES
        if len(parts) > 2 and parts[1] in ("layers", "models", "engine", "applications"):
            return Tri.YES
        if len(parts) > 2 and parts[1] in _NON_LAYER_PARTS:
            return Tri.NO
        return Tri.UNKNOWN

    def is_layer_class(self, node: cst.ClassDef) -> bool:
        """A Keras Layer/Model subclass, leniently: a class whose base the file
        cannot show counts when it defines ``call`` in a file that uses Keras
        (``call`` is the Keras layer protocol; plain classes say ``object``)."""
        status = self.class_status(node)
        if status is Tri.YES:
            return True
        info = self.class_of.get(id(node))
        return (
            status is Tri.UNKNOWN
            and info is not None
            and "call" in info.methods
            and self.imports.mentions_keras
        )

    def call_method(self, node: cst.ClassDef) -> Optional[cst.FunctionDef]:
        """The ``call`` a class defines or inherits from an in-file base."""
        for info in self._mro(node):
            if "call" in info.methods:
                return info.methods["call"]
        return None

    def builtin_base(self, node: cst.ClassDef) -> Optional[str]:
        """The Keras built-in class an in-file class derives from (first found)."""
        for info in self._mro(node):
            for arg in info.node.bases:
                name = dotted(arg.value)
                if name is None or name in self.classes:
                    continue
                qualified = self.imports.resolve_dotted(name)
                if qualified and qualified.startswith("keras."):
                    return qualified.rsplit(".", 1)[1]
        return None

    def allows_positional(self, node: cst.ClassDef) -> bool:
        return any(info.allows_positional for info in self._mro(node))

    def _mro(self, node: cst.ClassDef) -> Iterator[_Class]:
        """The class and its in-file bases, depth first."""
        seen: Set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop(0)
            if id(current) in seen:
                continue
            seen.add(id(current))
            info = self.class_of.get(id(current))
            if info is None:
                continue
            yield info
            for arg in current.bases:
                name = dotted(arg.value)
                if name in self.classes and self.imports.resolve_dotted(name) is None:
                    stack.append(self.classes[name].node)

    # -- where a call is ------------------------------------------------------
    def enclosing_class(self, call: cst.Call) -> Optional[cst.ClassDef]:
        where = self.where.get(id(call))
        return where[0].node if where and where[0] else None

    def enclosing_functions(self, call: cst.Call) -> Tuple[cst.FunctionDef, ...]:
        where = self.where.get(id(call))
        return where[2] if where else ()

    # -- callees --------------------------------------------------------------
    def callee(self, call: cst.Call) -> Optional[Callee]:
        """The layer or model ``call`` calls, or None if not known to be one."""
        where = self.where.get(id(call))
        if where is None:
            return None
        owner, scope, _ = where
        func = call.func
        label = dotted(func) or _short(func)
        if isinstance(func, cst.Name) and func.value == "self":
            if owner is not None and self.is_layer_class(owner.node):
                return Callee("self", owner.node.name.value, False, owner.node, ())
            return None
        info = self._value(func, scope, owner, 0, as_element=False)
        if info is None:
            return None
        class_name, builtin, classdef, constructors = info
        return Callee(label, class_name, builtin, classdef, constructors)

    def _value(self, node, scope: _Scope, owner: Optional[_Class], depth: int, as_element: bool) -> Optional[_Info]:
        """Layer info for an expression that evaluates to a layer (or, with
        ``as_element``, to a collection of layers)."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, cst.Name):
            return self._name(node.value, scope, owner, depth, as_element)
        if isinstance(node, cst.Attribute):
            if _is_self(node.value) and owner is not None:
                return self._attr(node.attr.value, owner, depth, as_element)
            return None  # ``model.backbone``, ``layers.Dense``: not followed
        if isinstance(node, cst.Subscript) and not as_element:
            return self._value(node.value, scope, owner, depth + 1, as_element=True)
        if isinstance(node, cst.IfExp):
            parts = [p for p in (node.body, node.orelse) if not _is_none(p)]
            return self._all(parts, scope, owner, depth, as_element)
        if as_element:
            if isinstance(node, (cst.List, cst.Tuple)):
                elements = [e.value for e in node.elements]
                if not elements or any(isinstance(e, cst.StarredElement) for e in node.elements):
                    return None
                return self._all(elements, scope, owner, depth, False)
            if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
                return self._constructor(node.elt, scope, owner, depth + 1)
            return None
        if isinstance(node, cst.Call):
            return self._constructor(node, scope, owner, depth + 1)
        return None

    def _all(self, nodes, scope, owner, depth, as_element) -> Optional[_Info]:
        infos = []
        for node in nodes:
            info = self._value(node, scope, owner, depth + 1, as_element)
            if info is None:
                return None
            infos.append(info)
        return _merge(infos)

    def _name(self, name: str, scope: _Scope, owner, depth: int, as_element: bool) -> Optional[_Info]:
        current: Optional[_Scope] = scope
        while current is not None:
            if name in current.opaque:
                return None
            values = current.names.get(name, [])
            loops = current.loops.get(name, [])
            if values or loops:
                infos = []
                for value, where in values:
                    if as_element and (_is_empty_collection(value)):
                        continue  # ``blocks = []`` then ``blocks.append(...)``: not followed
                    info = self._value(value, where, where.cls, depth + 1, as_element)
                    if info is None:
                        return None
                    infos.append(info)
                for iterable, where in loops:
                    if as_element:
                        return None
                    info = self._value(iterable, where, where.cls, depth + 1, as_element=True)
                    if info is None:
                        return None
                    infos.append(info)
                return _merge(infos)
            current = current.parent
        return None

    def _attr(self, attr: str, owner: _Class, depth: int, as_element: bool) -> Optional[_Info]:
        infos: List[_Info] = []
        found = False
        for info in self._mro(owner.node):
            if attr in info.methods or attr in info.opaque:
                return None  # a helper method (or something unreadable)
            values = info.attrs.get(attr, [])
            appended = info.appended.get(attr, [])
            for value, where in values:
                found = True
                if as_element and _is_empty_collection(value) and appended:
                    continue
                if _is_none(value):
                    continue
                got = self._value(value, where, where.cls, depth + 1, as_element)
                if got is None:
                    return None
                infos.append(got)
            if as_element:
                for value, where in appended:
                    found = True
                    got = self._value(value, where, where.cls, depth + 1, False)
                    if got is None:
                        return None
                    infos.append(got)
        if not found or not infos:
            return None
        return _merge(infos)

    def _constructor(self, node, scope, owner, depth: int) -> Optional[_Info]:
        """A call that builds a layer or model."""
        if not isinstance(node, cst.Call) or depth > _MAX_DEPTH:
            return None
        func = node.func
        name = dotted(func)
        if name is None:
            return None
        qualified = self.imports.resolve_dotted(name)
        if qualified is None:
            info = self.classes.get(name)
            if info is not None and self.is_layer_class(info.node):
                return (name, False, info.node, (node,))
            return None
        parts = qualified.split(".")
        last = parts[-1]
        if qualified == "tensorflow_hub.KerasLayer":
            return (None, False, None, (node,))
        if qualified.startswith(_KERAS_FAMILY):
            if ".layers." not in qualified and ".models." not in qualified:
                return None
            owner_name = parts[-2] if last == "from_preset" else last
            if not owner_name[:1].isupper():
                return None
            if any(word in owner_name for word in ("Preprocessor", "Tokenizer", "Converter")):
                return None  # keras_hub preprocessing layers accept non-tensor arguments
            return (None, False, None, (node,))
        if not qualified.startswith("keras.") or len(parts) < 2:
            return None
        section = parts[1]
        if last in ("Input", "InputLayer", "InputSpec"):
            return None
        if qualified == "keras.Sequential" or (section == "models" and last == "Sequential"):
            return ("Sequential", True, None, (node,))
        if qualified == "keras.Model" or (section == "models" and last in ("Model", "Functional")):
            return ("Model", True, None, (node,))
        if section in ("models", "saving") and last in _MODEL_FACTORIES:
            return (None, True, None, (node,))
        if section == "applications" and last[:1].isupper():
            return ("Model", True, None, (node,))
        if section == "layers" and last[:1].isupper():
            return (last, True, None, (node,))
        return None


def _merge(infos: List[_Info]) -> Optional[_Info]:
    if not infos:
        return None
    first = infos[0]
    constructors = tuple(c for info in infos for c in info[3])
    if all(info[:3] == first[:3] for info in infos):
        return (first[0], first[1], first[2], constructors)
    return (None, all(i[1] for i in infos), None, constructors)


def _is_self(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


def _is_none(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_empty_collection(node: cst.CSTNode) -> bool:
    return (isinstance(node, (cst.List, cst.Tuple)) and not node.elements) or (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
        and node.func.value in ("list", "tuple") and not node.args
    )


def _short(node: cst.CSTNode) -> str:
    """A short label for a callee that is not a dotted name: ``Dropout(...)``."""
    if isinstance(node, cst.Call):
        inner = dotted(node.func)
        return f"{inner}(...)" if inner else "layer"
    if isinstance(node, cst.Subscript):
        inner = dotted(node.value)
        return f"{inner}[...]" if inner else "layer"
    return "layer"


def layer_calls(context) -> LayerCalls:
    """The file's index, built on first use and shared by every rule."""
    index = getattr(context, "_layer_calls", None)
    if index is None:
        index = LayerCalls(context.module, context.imports)
        context._layer_calls = index
    return index


# -- small signature helpers the rules share ---------------------------------

def training_param(function: cst.FunctionDef) -> Optional[cst.Param]:
    """The ``training`` parameter of a function, if any."""
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == "training":
            return param
    return None


def positional_params(function: cst.FunctionDef) -> Optional[List[cst.Param]]:
    """The positional parameters after ``self``; None with ``*args``."""
    params = function.params
    if isinstance(params.star_arg, cst.Param):
        return None
    return list((*params.posonly_params, *params.params))[1:]


def keyword_value(call: cst.Call, keyword: str) -> Optional[cst.CSTNode]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None


def passes_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def layer_call_methods(index: LayerCalls) -> Iterator[Tuple[cst.ClassDef, cst.FunctionDef]]:
    """(class, its own ``call``) for every Keras Layer/Model subclass in the file."""
    for info in index.all_classes:
        function = info.methods.get("call")
        if function is not None and index.is_layer_class(info.node):
            yield info.node, function


def name_loads(node: cst.CSTNode) -> Iterator[cst.Name]:
    """Every Name below ``node`` that reads a variable: keyword names of
    arguments (``f(training=...)``), attribute names (``self.training``) and
    parameter names are not reads."""
    from ..engine.walker import iter_descendants

    skipped: Set[int] = set()
    for child in iter_descendants(node):
        if isinstance(child, cst.Arg) and child.keyword is not None:
            skipped.add(id(child.keyword))
        elif isinstance(child, cst.Attribute):
            skipped.add(id(child.attr))
        elif isinstance(child, cst.Param):
            skipped.add(id(child.name))
        elif isinstance(child, cst.Name) and id(child) not in skipped:
            yield child


def reads_name(node: cst.CSTNode, name: str) -> bool:
    """Does ``node`` read the variable ``name``?"""
    return any(n.value == name for n in name_loads(node))


TRAINING_NAMES = frozenset({"training", "is_training"})


def training_like(node: cst.CSTNode) -> bool:
    """A bool literal, or a value named ``training`` / ``is_training``."""
    if isinstance(node, cst.Name):
        return node.value in ("True", "False") or node.value in TRAINING_NAMES
    return isinstance(node, cst.Attribute) and node.attr.value in TRAINING_NAMES


def positional_training(call: cst.Call) -> Optional[Tuple[int, cst.CSTNode]]:
    """(position, value) of a training-like positional argument after the
    first, or None. Positions after ``*args`` are unknown and not looked at."""
    position = 0
    for arg in call.args:
        if arg.keyword is not None or arg.star == "**":
            return None
        if arg.star == "*":
            return None
        if position >= 1 and training_like(arg.value):
            return position, arg.value
        position += 1
    return None


def _parameter_names(params: cst.Parameters):
    """Every name a function or lambda binds as a parameter (``*args`` and ``**kwargs`` too)."""
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value
