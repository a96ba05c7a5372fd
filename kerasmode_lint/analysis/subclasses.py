"""Layer and Model subclasses defined in the file being linted.

Rules about ``train_step``, ``test_step`` and ``call`` bodies need to know,
for a class: whether it is a Keras Model, what its methods assign to
``self.<attr>`` (so ``self.dropout(h)`` can be looked up in this class and not
in any class of the file), which attributes it freezes
(``self.<attr>.trainable = False``), and whether the model behind ``self``
contains mode-dependent layers. The answers come from the class body and from
the ModelContents index of the file (built lazily, shared with other rules).
"""
from __future__ import annotations


from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Set

import libcst as cst

from .keras_knowledge import TRAINING_FLAG_NAME as _FLAG_NAME, Tri
from .model_contents import UNKNOWN, Contents, KindView, ModelContents
from .names import ImportTracker, dotted
from ..engine.walker import iter_descendants

# Last component of a canonical base class name that makes a class a Model.
_MODEL_CLASSES = frozenset({"Model", "Sequential", "Functional"})
TRAINING_ENTRY_POINTS = frozenset(
    {"fit", "compile", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch"}
)


@dataclass
class ClassInfo:
    node: cst.ClassDef
    name: str
    methods: Dict[str, cst.FunctionDef] = field(default_factory=dict)
    attributes: Dict[str, List[cst.CSTNode]] = field(default_factory=dict)
    frozen: Set[str] = field(default_factory=set)

    @staticmethod
    def of(node: cst.ClassDef) -> "ClassInfo":
        info = ClassInfo(node, node.name.value)
        for member in node.body.body:
            if isinstance(member, cst.FunctionDef):
                info.methods.setdefault(member.name.value, member)
        for method in info.methods.values():
            for sub in iter_descendants(method):
                if isinstance(sub, cst.Assign):
                    for target in sub.targets:
                        info._assign(target.target, sub.value)
                elif isinstance(sub, cst.AnnAssign) and sub.value is not None:
                    info._assign(sub.target, sub.value)
        return info

    def _assign(self, target: cst.CSTNode, value: cst.CSTNode) -> None:
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
            if len(target.elements) == len(value.elements):
                for t, v in zip(target.elements, value.elements):
                    self._assign(t.value, v.value)
            return
        name = dotted(target)
        if name is None or not name.startswith("self."):
            return
        parts = name.split(".")
        if len(parts) == 2:
            self.attributes.setdefault(parts[1], []).append(value)
        elif len(parts) == 3 and parts[2] == "trainable" and _is_false(value):
            self.frozen.add(parts[1])


def is_model_class(node: cst.ClassDef, imports: ImportTracker, classes: Dict[str, cst.ClassDef],
                   depth: int = 0) -> bool:
    """Does the class derive (through classes of this file) from keras.Model?"""
    if depth > 8:
        return False
    for base in node.bases:
        if base.keyword is not None:
            continue
        qualified = imports.resolve(base.value)
        if qualified is not None:
            if qualified.startswith("keras.") and qualified.rsplit(".", 1)[-1] in _MODEL_CLASSES:
                return True
            continue
        name = dotted(base.value)
        parent = classes.get(name) if name else None
        if parent is not None and parent is not node and is_model_class(parent, imports, classes, depth + 1):
            return True
    return False


def is_plain_tf_module(node: cst.ClassDef, imports: ImportTracker, classes: Dict[str, cst.ClassDef],
                       depth: int = 0) -> bool:
    """Does the class derive (through classes of this file) from ``tf.Module``
    and from no Keras class? Its ``__call__`` is the author's own: Keras passes
    it no ``training``, and ``training=True`` may raise TypeError."""
    if depth > 8:
        return False
    found = False
    for base in node.bases:
        if base.keyword is not None:
            continue
        qualified = imports.resolve(base.value)
        if qualified == "tensorflow.Module":
            found = True
            continue
        if qualified is not None:
            return False  # a Keras class, or another tracked object
        name = dotted(base.value)
        parent = classes.get(name) if name else None
        if parent is None or parent is node or not is_plain_tf_module(parent, imports, classes, depth + 1):
            return False
        found = True
    return found


class ClassContents:
    """Mode-dependence of ``self`` and ``self.<attr>`` for one class."""

    def __init__(self, info: ClassInfo, models: ModelContents, imports: ImportTracker) -> None:
        self.info = info
        self.models = models
        self.imports = imports

    def of_attribute(self, attr: str, models: Optional["ModelContents | KindView"] = None) -> Tri:
        if attr in self.info.methods:
            return Tri.NO  # a method, not a layer
        values = self.info.attributes.get(attr)
        if not values:
            return Tri.UNKNOWN  # passed in, set elsewhere …
        models = models or self.models
        kind = "any"
        if isinstance(models, KindView):  # a question about one kind
            kind, models = models.kind, models.whole
        return Tri.any_of(self._contents_of_value(v, models).kind(kind) for v in values)

    def built_here(self, callee: str) -> bool:
        """Is what ``self`` / ``self.<attr>`` holds built in this file (rather
        than handed over by code the file cannot see)?"""
        if callee == "self":
            return "call" in self.info.methods or self._builds_keras_objects() or any(True for _ in self.instantiations())
        values = self.info.attributes.get(callee.split(".", 1)[1])
        if not values:
            return False
        return all(self._arguments_for(v) != [] for v in values)

    def _contents_of_value(self, value: cst.CSTNode, models: ModelContents) -> Contents:
        """``self.encoder = encoder`` with ``encoder`` a parameter of ``__init__``:
        what the file's instantiations pass for it (``SimSiam(get_encoder(), …)``,
        ``GAN(discriminator=d, …)``); UNKNOWN when one of them passes nothing
        visible or the class is never instantiated here."""
        passed = self._arguments_for(value)
        if passed is None:
            return models.contents_of_expression(value)
        if not passed:
            return UNKNOWN
        return Contents.combine(models.contents_of_expression(arg) for arg in passed)

    def _arguments_for(self, value: cst.CSTNode) -> Optional[List[cst.CSTNode]]:
        """None: ``value`` is not an ``__init__`` parameter; else the arguments
        the file's instantiations give it ([] if any of them is unknown)."""
        init = self.info.methods.get("__init__")
        if init is None or not isinstance(value, cst.Name):
            return None
        params = [p.name.value for p in init.params.params]
        if value.value not in params[1:]:
            return None
        position = params.index(value.value) - 1  # without self
        found: List[cst.CSTNode] = []
        for call in self.instantiations():
            arg = _argument_for(call, position, value.value)
            if arg is None:
                return []
            found.append(arg)
        return found

    def of_self(self, models: Optional[ModelContents] = None) -> Tri:
        """The model the class's instances are: its own layers when it builds
        any, else (a functional subclass) the graphs it is instantiated with."""
        models = models or self.models
        info = self.info
        if "call" in info.methods or self._builds_keras_objects():
            answer = models.of_scope(info.node)
            if answer is Tri.NO and not self._builds_keras_objects():
                return Tri.UNKNOWN  # nothing seen is not evidence of nothing
            return answer
        scopes = [models.index.scope_of_call.get(id(c)) for c in self.instantiations()]
        scopes = [s for s in scopes if s is not None]
        if not scopes:
            return Tri.UNKNOWN
        return Tri.any_of(models.of_scope(s) for s in scopes)

    def contents_of_callee(self, callee: str) -> Contents:
        """Per kind (Dropout, BatchNormalization, other), what ``self`` or
        ``self.<attr>`` holds, for messages that name only what is there."""
        if callee != "self":
            values = self.info.attributes.get(callee.split(".", 1)[1])
            if not values:
                return UNKNOWN
            return Contents.combine(self._contents_of_value(v, self.models) for v in values)
        if "call" in self.info.methods or self._builds_keras_objects():
            kinds = {kind: self.models.of_scope(self.info.node, kind) for kind in ("dropout", "batchnorm", "other")}
            return Contents(**kinds)
        return UNKNOWN

    def instantiations(self) -> Iterator[cst.Call]:
        for calls in self.models.index.scope_calls.values():
            for call in calls:
                if dotted(call.func) == self.info.name:
                    yield call

    def _builds_keras_objects(self) -> bool:
        for method in self.info.methods.values():
            for sub in iter_descendants(method):
                if isinstance(sub, cst.Call):
                    qualified = self.imports.resolve(sub.func)
                    if qualified and qualified.startswith(("keras.layers.", "keras.applications.")):
                        return True
                    if qualified and qualified.rsplit(".", 1)[-1] in _MODEL_CLASSES and qualified.startswith("keras."):
                        return True
                    built = self.models.index.classes.get(dotted(sub.func) or "")
                    if built is not None and built is not self.info.node and self._is_keras_subclass(built):
                        return True  # self.dense = MyDense(1): a layer class of this file
        return False

    def _is_keras_subclass(self, node: cst.ClassDef, depth: int = 0) -> bool:
        classes = self.models.index.classes
        for base in node.bases:
            qualified = self.imports.resolve(base.value)
            if qualified is not None and qualified.startswith("keras."):
                return True
            parent = classes.get(dotted(base.value) or "")
            if parent is not None and parent is not node and depth < 8 and self._is_keras_subclass(parent, depth + 1):
                return True
        return False


def _argument_for(call: cst.Call, position: int, keyword: str) -> Optional[cst.CSTNode]:
    """The argument a call passes for a parameter (None if not visible)."""
    positional = 0
    for arg in call.args:
        if arg.star:
            return None  # *args / **kwargs: cannot tell
        if arg.keyword is not None:
            if arg.keyword.value == keyword:
                return arg.value
            continue
        if positional == position:
            return arg.value
        positional += 1
    return None


def _is_false(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def passes_training(call: cst.Call) -> bool:
    """An explicit ``training=`` (any value), ``**kwargs`` that may carry it, a
    flag under another name that the callee forwards (``is_training=True``), or
    a flag passed by position (``transformer(inp, tar, True, mask)``)."""
    return any(
        (arg.keyword is not None and _FLAG_NAME.fullmatch(arg.keyword.value.lower()) is not None)
        or arg.star == "**"
        for arg in call.args
    ) or positional_training(call) is not None




def _is_flag(node: cst.CSTNode) -> bool:
    """``True``/``False`` or a name that reads as a training flag
    (``training``, ``is_training``, ``train_mode``)."""
    return isinstance(node, cst.Name) and (
        node.value in ("True", "False") or _FLAG_NAME.fullmatch(node.value.lower()) is not None
    )


def positional_training(call: cst.Call) -> Optional[cst.Arg]:
    """The positional argument after the inputs that binds to ``training``
    when the callee is a subclass with ``call(self, inputs, ..., training)``
    (Keras 2 binds it; Keras 3 rejects a non-tensor positional argument, which
    is KM303's ground): a boolean literal or a flag-named variable. The first
    argument is the inputs and never the flag."""
    for arg in call.args[1:]:
        if arg.keyword is None and not arg.star and _is_flag(arg.value):
            return arg
    return None


def training_value(call: cst.Call) -> Optional[cst.CSTNode]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "training":
            return arg.value
    return None
