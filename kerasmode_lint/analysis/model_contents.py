"""What is inside the model or layer behind a name, and how it is used.

Most ``training`` mistakes only matter when the model really holds a layer
whose behaviour depends on the mode. This module answers that for a name used
in a file, from what the file itself shows: ``Sequential([...])`` and
``.add()``, functional graphs (the layers built in the same function), helper
functions and Layer/Model subclasses defined in the file (the layers their
methods build, their base classes), ``keras.applications`` constructors (a
table in keras_knowledge). Whatever the file cannot show (``load_model``, hub
and keras_hub presets, classes imported from elsewhere) is UNKNOWN, and each
rule decides what UNKNOWN means for it.

The answer comes per kind (``Contents``): Dropout-like layers (random in
training: Dropout, SpatialDropout, noise, RNN/attention dropout), BatchNorm-
like layers (batch statistics and moving-statistics updates in training), and
other mode-dependent layers (random augmentation). ``of_name(name)`` keeps
answering "any of them"; ``of_name(name, kind="dropout")`` asks about one.

It also answers two questions about how a name is used, for the rules on
frozen models and functional graphs: ``training_state(name)`` (is it frozen
with ``trainable=False``, made trainable again, and are its BatchNormalization
layers frozen again after that?) and ``is_graph_node(call)`` (is this call a
node of a functional graph, i.e. applied to a symbolic tensor that comes from
``keras.Input`` or a model's ``.output``?).

The index is built lazily, on the first question, with one extra walk of the
tree: most files never ask.
"""
from __future__ import annotations

import bisect

import builtins
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

import libcst as cst

from . import keras_knowledge as kk
from .keras_knowledge import Tri
from .names import ImportTracker, dotted
from ..engine.walker import iter_children, iter_descendants, walk

_MAX_DEPTH = 8

KINDS = ("any", "dropout", "batchnorm", "other")


@dataclass(frozen=True)
class Contents:
    """What an object holds, per kind of mode-dependent layer."""

    dropout: Tri = Tri.NO  # Dropout, SpatialDropout*, Gaussian*, AlphaDropout, RNN/attention dropout
    batchnorm: Tri = Tri.NO  # BatchNormalization, SyncBatchNormalization
    other: Tri = Tri.NO  # random augmentation, …
    # ``trainable=False`` already forces inference mode for everything in it
    # (tensorflow_hub.KerasLayer passes training=False when not trainable).
    frozen_means_inference: bool = False
    # Its ``call`` pins ``training`` itself (a literal ``training=`` to what it
    # calls, and never reads its own argument): a ``training=`` given to it is
    # ignored, in every Keras version.
    ignores_training: bool = False
    # Every mode-dependent part runs its training behaviour when `training` is
    # None (a custom layer gating its own ops on `training is not False`): a
    # call without `training=` does not put it in inference mode.
    none_means_training: bool = False
    # A functional graph whose every mode-dependent part is a node called
    # with a literal ``training=``: "true" when every such pin is
    # ``training=True`` on a Dropout-only part (it drops whatever the outer
    # call says, in every version), "literal" when some pin is False (it holds
    # in Keras 2 and 3.16+; Keras 3.0-3.15 let the outer call override it,
    # R1), None otherwise.
    node_pins: Optional[str] = None
    # Kinds held only by graph nodes called with a literal ``training=``: the
    # mode of the call around the graph does not reach them where node pins
    # hold (Keras 2, 3.16+).
    pinned: FrozenSet[str] = frozenset()

    @property
    def any(self) -> Tri:
        return Tri.any_of((self.dropout, self.batchnorm, self.other))

    def kind(self, kind: str) -> Tri:
        if kind == "any":
            return self.any
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
        return getattr(self, kind)

    @staticmethod
    def combine(items: Iterable["Contents"]) -> "Contents":
        """Everything in several objects (or several possible values of one)."""
        items = list(items)
        if not items:
            return NOTHING
        return Contents(
            dropout=Tri.any_of(c.dropout for c in items),
            batchnorm=Tri.any_of(c.batchnorm for c in items),
            other=Tri.any_of(c.other for c in items),
            frozen_means_inference=all(c.frozen_means_inference for c in items),
            ignores_training=all(c.ignores_training for c in items),
            none_means_training=any(c.any is not Tri.NO for c in items) and all(
                c.none_means_training for c in items if c.any is not Tri.NO
            ),
            # pinned as a whole only when every possible value is, the same way
            node_pins=items[0].node_pins if len({c.node_pins for c in items}) == 1 else None,
            # a pin tag ("[prefix:]kind") stays when every item holding that kind has it
            pinned=frozenset(
                tag for tag in frozenset().union(*(c.pinned for c in items))
                if all(tag in c.pinned for c in items if c.kind(tag.rsplit(":", 1)[-1]) is not Tri.NO)
            ),
        )


NOTHING = Contents()
UNKNOWN = Contents(Tri.UNKNOWN, Tri.UNKNOWN, Tri.UNKNOWN)


@dataclass(frozen=True)
class TrainingState:
    """How a name's ``trainable`` flag is set in the file."""

    frozen: bool = False  # trainable=False: attribute, constructor argument, or a loop over all its layers
    unfrozen: bool = False  # made (or possibly made) trainable again, wholly or partly
    # After the (last) unfreezing, a loop sets the BatchNormalization layers'
    # trainable=False again (or unfreezes every layer except them).
    batchnorm_refrozen: bool = False


# keras.Input and the like: their result is a symbolic tensor.
_INPUTS = frozenset({"keras.Input", "keras.layers.Input"})
# Calls whose result is a model or a number, never a symbolic tensor.
_MODEL_CONSTRUCTORS = frozenset(
    {"keras.Model", "keras.models.Model", "keras.Sequential", "keras.models.Sequential"}
)
_NOT_TENSOR_METHODS = frozenset(
    {
        "fit", "predict", "evaluate", "train_on_batch", "test_on_batch",
        "predict_on_batch", "compile", "summary", "save", "get_weights",
        "count_params", "numpy",
    }
)
_SYMBOLIC_ATTRIBUTES = frozenset({"output", "outputs", "input", "inputs"})
# Roots of calls that never build a layer.
_NOT_LAYER_ROOTS = frozenset(
    {
        "np", "numpy", "pd", "pandas", "math", "os", "sys", "re", "json",
        "collections", "functools", "itertools", "typing", "dataclasses",
        "pathlib", "logging", "random", "time", "datetime", "plt",
        "matplotlib", "scipy", "sklearn", "argparse", "enum", "abc", "copy",
        "super", "self", "cls",
    }
)
_BUILTINS = frozenset(dir(builtins))
_OPAQUE_ROOTS = frozenset({"keras_hub", "keras_cv", "keras_nlp", "tensorflow_hub"})


def _literal_bool(node: Optional[cst.CSTNode]) -> Optional[bool]:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def _keyword(call: cst.Call, name: str) -> Optional[cst.CSTNode]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _target_names(target: cst.CSTNode) -> List[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        names: List[str] = []
        for element in target.elements:
            names.extend(_target_names(element.value))
        return names
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    name = dotted(target)
    return [name] if name is not None else []


def _chain_root(node: cst.CSTNode) -> Optional[str]:
    """``base`` for ``base.layers[-1]``, ``base.get_layer("x")``, ``base``."""
    while True:
        if isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Attribute) and dotted(node) is None:
            node = node.value
        else:
            return dotted(node)


def _belongs_to(owner: Optional[str], name: str) -> bool:
    return owner is not None and (owner == name or owner.startswith(name + "."))


def _mentions_batchnorm(node: cst.CSTNode) -> bool:
    """A test such as ``isinstance(layer, layers.BatchNormalization)`` or
    ``"bn" in layer.name``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name) and "BatchNorm" in current.value:
            return True
        if isinstance(current, cst.Attribute) and "BatchNorm" in current.attr.value:
            return True
        if isinstance(current, cst.SimpleString):
            text = current.value.lower()
            if "batchnorm" in text or "batch_norm" in text or "bn" in text:
                return True
        stack.extend(iter_children(current))
    return False


def _negated(test: cst.CSTNode) -> bool:
    return isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)


@dataclass
class _Loop:
    order: int
    scope: cst.CSTNode
    owner: Optional[str]  # root name of the iterated expression
    whole: bool  # iterates ``owner.layers`` itself, not a slice of it
    # (value, polarity): polarity True = under a BatchNorm test, False = under
    # a negated one, None = unconditional.
    assignments: List[Tuple[cst.CSTNode, Optional[bool]]]

    def keeps_batchnorm_frozen(self) -> bool:
        for value, polarity in self.assignments:
            flag = _literal_bool(value)
            if polarity is True and flag is False:
                return True  # if isinstance(l, BN): l.trainable = False
            if polarity is False and flag is True:
                return True  # if not isinstance(l, BN): l.trainable = True
            if polarity is None and _negated(value) and _mentions_batchnorm(value):
                return True  # l.trainable = not isinstance(l, BN)
        return False


@dataclass
class _TrainableSet:
    order: int
    scope: cst.CSTNode
    owner: Optional[str]  # ``base`` in ``base.trainable = …`` / ``base.layers[0].trainable = …``
    exact: bool  # the target is ``owner.trainable`` itself
    value: cst.CSTNode


_Scoped = Tuple[cst.CSTNode, cst.CSTNode]  # (scope, value)


class _Index:
    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.assignments: Dict[str, List[_Scoped]] = defaultdict(list)
        self.added: Dict[str, List[_Scoped]] = defaultdict(list)  # x.add(layer)
        # a, b = build(...): name -> (scope, the call, position in what it returns)
        self.unpacked: Dict[str, List[Tuple[cst.CSTNode, cst.Call, int]]] = defaultdict(list)
        self.classes: Dict[str, cst.ClassDef] = {}
        self.functions: Dict[str, cst.FunctionDef] = {}
        # Constructor-like calls made directly in each scope (function,
        # class or module), keyed by id(scope node).
        self.scope_calls: Dict[int, List[cst.Call]] = defaultdict(list)
        self.scope_of_call: Dict[int, cst.CSTNode] = {}
        self.parent: Dict[int, Optional[cst.CSTNode]] = {id(module): None}
        # Plain names bound in each scope (assignments, parameters, loop targets).
        self.bound: Dict[int, Set[str]] = defaultdict(set)
        self.globals: Dict[int, Set[str]] = defaultdict(set)
        # (order, target names, value) of every assignment, per scope.
        self.scope_assigns: Dict[int, List[Tuple[int, List[str], cst.CSTNode]]] = defaultdict(list)
        self.call_order: Dict[int, int] = {}
        self.trainable_sets: List[_TrainableSet] = []
        self.loops: List[_Loop] = []
        # Where each assigned (or ``.add``-ed) value sits in the file's
        # order, and whether a branch or loop makes it conditional: for the
        # definition of a module-level name that reaches a given use.
        self.value_order: Dict[int, Tuple[int, bool]] = {}
        self.def_order: Dict[int, int] = {}
        self.name_uses: Dict[str, int] = defaultdict(int)  # Name nodes, def names excluded
        self._branches = 0
        self._order = 0
        self._scopes: List[cst.CSTNode] = [module]
        # Lookups built on first use, once the walk below has recorded everything.
        self._variables: Dict[Tuple[int, str], Dict[int, list]] = {}
        self._sets_by_root: Optional[Dict[str, List[_TrainableSet]]] = None
        self._loops_by_root: Optional[Dict[str, List[_Loop]]] = None
        self._last_refreeze: Optional[int] = None
        walk(
            module,
            {
                cst.FunctionDef: [self._enter],
                cst.ClassDef: [self._enter],
                cst.Assign: [self._assign],
                cst.AnnAssign: [self._ann_assign],
                cst.AugAssign: [self._aug_assign],
                cst.Call: [self._call],
                cst.For: [self._for, self._branch],
                cst.If: [self._branch],
                cst.While: [self._branch],
                cst.Try: [self._branch],
                cst.TryStar: [self._branch],
                cst.Global: [self._global],
                cst.Nonlocal: [self._global],
                cst.AsName: [self._as_name],
                cst.Name: [self._name_use],
            },
            {
                cst.FunctionDef: [self._leave],
                cst.ClassDef: [self._leave],
                cst.For: [self._unbranch],
                cst.If: [self._unbranch],
                cst.While: [self._unbranch],
                cst.Try: [self._unbranch],
                cst.TryStar: [self._unbranch],
            },
        )

    # -- scopes -------------------------------------------------------------
    def _enter(self, node) -> None:
        if isinstance(node, cst.ClassDef):
            self.classes.setdefault(node.name.value, node)
        else:
            self._order += 1
            self.def_order[id(node)] = self._order
            self.name_uses[node.name.value] -= 1  # its own name is not a use
            self.functions.setdefault(node.name.value, node)
            self.bound[id(self._scopes[-1])].add(node.name.value)
            params = node.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                self.bound[id(node)].add(param.name.value)
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param):
                    self.bound[id(node)].add(star.name.value)
        self.parent[id(node)] = self._scopes[-1]
        self._scopes.append(node)

    def _leave(self, node) -> None:
        self._scopes.pop()

    def _name_use(self, node: cst.Name) -> None:
        self.name_uses[node.value] += 1

    def _branch(self, node) -> None:
        self._branches += 1

    def _unbranch(self, node) -> None:
        self._branches -= 1

    def _placed(self, value: cst.CSTNode) -> None:
        self.value_order[id(value)] = (self._order, self._branches > 0)

    def _bind(self, names: Iterable[str]) -> None:
        bound = self.bound[id(self._scopes[-1])]
        for name in names:
            if "." not in name:
                bound.add(name)

    def _global(self, node) -> None:
        self.globals[id(self._scopes[-1])].update(n.name.value for n in node.names)

    def _as_name(self, node: cst.AsName) -> None:
        self._bind(_target_names(node.name))

    def binding(self, name: str, scope: cst.CSTNode) -> cst.CSTNode:
        """The scope whose variable ``name`` (``base``, ``self.base``) is, seen
        from ``scope``: Python's rules, with ``self.x`` belonging to the class."""
        root = name.split(".", 1)[0]
        current: Optional[cst.CSTNode] = scope
        if root in ("self", "cls"):
            while current is not None and not isinstance(current, cst.ClassDef):
                current = self.parent.get(id(current))
            return current if current is not None else self.module
        start = scope
        while current is not None:
            if isinstance(current, cst.ClassDef) and current is not start:
                current = self.parent.get(id(current))
                continue  # class bodies do not enclose their methods
            if root in self.globals.get(id(current), ()):
                return self.module
            if root in self.bound.get(id(current), ()):
                return current
            current = self.parent.get(id(current))
        return self.module

    def values(self, table: Dict[str, List[_Scoped]], name: str, scope: Optional[cst.CSTNode]):
        """The (scope, value) pairs assigned to the same variable as ``name``
        seen from ``scope``; every assignment of the name when scope is None."""
        pairs = table.get(name, [])
        if scope is None or not pairs:
            return pairs
        return list(self.by_variable(table, name).get(id(self.binding(name, scope)), ()))

    def by_variable(self, table, name: str) -> Dict[int, list]:
        """A name's entries in ``table`` grouped by the scope whose variable
        they assign, in the file's order (built once per name: ``x`` is
        assigned in every builder of a long script)."""
        key = (id(table), name)
        groups = self._variables.get(key)
        if groups is None:
            groups = self._variables[key] = {}
            for entry in table.get(name, ()):
                groups.setdefault(id(self.binding(name, entry[0])), []).append(entry)
        return groups

    def trainable_sets_of(self, root: str) -> List["_TrainableSet"]:
        """The ``X.trainable = …`` assignments whose target starts with ``root``."""
        if self._sets_by_root is None:
            self._sets_by_root = defaultdict(list)
            for item in self.trainable_sets:
                if item.owner is not None:
                    self._sets_by_root[item.owner.split(".", 1)[0]].append(item)
        return self._sets_by_root.get(root, [])

    def loops_of(self, root: str) -> List["_Loop"]:
        """The loops setting ``trainable`` on layers of an object starting with ``root``."""
        if self._loops_by_root is None:
            self._loops_by_root = defaultdict(list)
            for loop in self.loops:
                if loop.owner is not None:
                    self._loops_by_root[loop.owner.split(".", 1)[0]].append(loop)
        return self._loops_by_root.get(root, [])

    def last_batchnorm_refreeze(self) -> int:
        """The position of the file's last loop that keeps BatchNormalization frozen (0: none)."""
        if self._last_refreeze is None:
            self._last_refreeze = max(
                (loop.order for loop in self.loops if loop.keeps_batchnorm_frozen()), default=0)
        return self._last_refreeze

    # -- facts --------------------------------------------------------------
    def _assign(self, node: cst.Assign) -> None:
        self._order += 1
        scope = self._scopes[-1]
        names: List[str] = []
        for target in node.targets:
            names.extend(_target_names(target.target))
            name = dotted(target.target)
            if name is not None:
                self.assignments[name].append((scope, node.value))
            elif isinstance(target.target, (cst.Tuple, cst.List)) and isinstance(node.value, cst.Call):
                # a, self.model = build(): element i of what build() returns.
                for position, element in enumerate(target.target.elements):
                    element_name = dotted(element.value)
                    if element_name is None or isinstance(element.value, cst.StarredElement):
                        break
                    self.unpacked[element_name].append((scope, node.value, position))
            if isinstance(target.target, cst.Attribute) and target.target.attr.value == "trainable":
                owner = target.target.value
                exact = dotted(owner)
                self.trainable_sets.append(
                    _TrainableSet(
                        self._order, scope, exact or _chain_root(owner), exact is not None, node.value
                    )
                )
        self._bind(names)
        self._placed(node.value)
        self.scope_assigns[id(scope)].append((self._order, names, node.value))

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        name = dotted(node.target)
        if name is not None and node.value is not None:
            scope = self._scopes[-1]
            self.assignments[name].append((scope, node.value))
            self._order += 1
            self._placed(node.value)
            self._bind([name])
            self.scope_assigns[id(scope)].append((self._order, [name], node.value))

    def _aug_assign(self, node: cst.AugAssign) -> None:
        name = dotted(node.target)
        if name is not None:
            self._order += 1
            self._bind([name])
            self.scope_assigns[id(self._scopes[-1])].append((self._order, [name], node.value))

    def _call(self, node: cst.Call) -> None:
        scope = self._scopes[-1]
        self._order += 1
        self.call_order[id(node)] = self._order
        self.scope_calls[id(scope)].append(node)
        self.scope_of_call[id(node)] = scope
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "add" and node.args:
            receiver = dotted(node.func.value)
            if receiver is not None:
                self.added[receiver].append((scope, node.args[0].value))
                self._placed(node.args[0].value)

    def _for(self, node: cst.For) -> None:
        self._order += 1
        self._bind(_target_names(node.target))
        if not isinstance(node.target, cst.Name):
            return
        variable = node.target.value
        assignments: List[Tuple[cst.CSTNode, Optional[bool]]] = []
        _scan_loop_body(node.body, variable, None, assignments)
        if not assignments:
            return
        iterated = node.iter
        if isinstance(iterated, cst.Attribute) and iterated.attr.value == "layers":
            owner, whole = dotted(iterated.value), True  # for layer in base.layers
        else:
            owner, whole = _chain_root(iterated), False
        self.loops.append(_Loop(self._order, self._scopes[-1], owner, whole, assignments))


def _scan_loop_body(node, variable, polarity, found) -> None:
    """``variable.trainable = value`` assignments in a loop body, with the
    BatchNorm test (if any) they sit under."""
    if isinstance(node, cst.If):
        about_bn = _mentions_batchnorm(node.test)
        inner = (not _negated(node.test)) if about_bn else polarity
        _scan_loop_body(node.body, variable, inner, found)
        if node.orelse is not None:
            other = (not inner) if about_bn else polarity
            _scan_loop_body(node.orelse, variable, other, found)
        return
    if isinstance(node, cst.Assign):
        for target in node.targets:
            t = target.target
            if (
                isinstance(t, cst.Attribute)
                and t.attr.value == "trainable"
                and isinstance(t.value, cst.Name)
                and t.value.value == variable
            ):
                found.append((node.value, polarity))
        return
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression)):
        return
    for child in iter_children(node):
        _scan_loop_body(child, variable, polarity, found)


class ModelContents:
    """Answers "what does X contain, and how is it used?" for one file."""

    def __init__(self, module: cst.Module, imports: ImportTracker, path: str = "", hops: int = 0) -> None:
        self._module = module
        self._imports = imports
        # Where the file is (to find the project modules it imports: project_models)
        # and how many modules away from the linted file it is.
        self.path = path
        self.hops = hops
        self._project_imports: Optional[Dict[str, Tuple[str, int, Optional[str]]]] = None
        self._index: Optional[_Index] = None
        self._symbolic_cache: Dict[int, Set[str]] = {}
        self._graph_cache: Dict[int, Set[int]] = {}
        self._order_cache: Dict[tuple, tuple] = {}
        self._known: Dict[int, Contents] = {}  # id(expression) -> its definite contents

    @property
    def index(self) -> _Index:
        if self._index is None:
            self._index = _Index(self._module)
        return self._index

    def _scope_at(self, at: Optional[cst.CSTNode]) -> Optional[cst.CSTNode]:
        if at is None:
            return None
        return self.index.scope_of_call.get(id(at))

    # -- public questions ---------------------------------------------------
    def of_name(self, name: str, kind: str = "any", at: Optional[cst.Call] = None) -> Tri:
        """Does the object bound to ``name`` (``model``, ``self.base``) contain
        mode-dependent layers of ``kind`` ("any", "dropout", "batchnorm", "other")?
        ``at``: a call where the name is used, to read the name in that call's
        scope (Python's scoping; ``self.x`` is the class's); without it, every
        assignment of the name in the file counts."""
        return self.contents_of_name(name, at).kind(kind)

    def of_expression(self, node: cst.CSTNode, kind: str = "any") -> Tri:
        return self.contents_of_expression(node).kind(kind)

    def contents_of_name(self, name: str, at: Optional[cst.Call] = None) -> Contents:
        scope = self._scope_at(at)
        if scope is None:
            return self._name(name, None, 0, set())
        index = self.index
        pairs = self._reaching(
            name, scope, at,
            index.values(index.assignments, name, scope), index.values(index.added, name, scope),
        )
        if not pairs:
            return self._unpacked(name, scope, 1, set())
        seen: Set[int] = set()
        return Contents.combine(self._expr(v, s, 1, seen) for s, v in pairs)

    def _reaching(self, name, scope, at, assigned, added):
        """The definitions of ``name`` that reach its use at ``at``: for a
        module-level name assigned several times (notebook cells, scripts
        that build several models), the last unconditional assignment before
        the use (or before each module-level call of the function that uses
        it) and anything conditional or ``.add``-ed after it. Every
        definition when the order cannot be told."""
        index = self.index
        everything = assigned + added
        if len(assigned) < 2 or "." in name or index.binding(name, scope) is not self._module:
            return everything
        points = self._use_points(scope, at)
        if not points:
            return everything
        orders, placed, added_orders, added_pairs = self._ordered(name, assigned, added)
        reaching: List[_Scoped] = []
        for point in points:
            # Bisect, then walk back to the last unconditional definition:
            # linear in the file however often the name is reassigned.
            index_before = bisect.bisect_left(orders, point) - 1
            start = None
            while index_before >= 0:
                order, conditional, pair = placed[index_before]
                reaching.append(pair)
                if not conditional:
                    start = order
                    break
                index_before -= 1
            if start is None:
                return everything  # used before any sure definition
            low = bisect.bisect_right(added_orders, start)
            high = bisect.bisect_left(added_orders, point)
            reaching += added_pairs[low:high]
        unique = {id(v): (s, v) for s, v in reaching}
        return list(unique.values())

    def _ordered(self, name, assigned, added):
        """The definitions of a module-level name sorted by position (once per name)."""
        key = ("ordered", name)
        cached = self._order_cache.get(key)
        if cached is None:
            order_of = self.index.value_order
            placed = sorted(
                ((order_of[id(v)][0], order_of[id(v)][1], (s, v)) for s, v in assigned if id(v) in order_of),
                key=lambda item: item[0],
            )
            adds = sorted(
                ((order_of[id(v)][0], (s, v)) for s, v in added if id(v) in order_of), key=lambda item: item[0]
            )
            cached = ([p[0] for p in placed], placed, [a[0] for a in adds], [a[1] for a in adds])
            self._order_cache[key] = cached
        return cached

    def _use_points(self, scope, at) -> List[int]:
        """Positions in the file's order where a use at ``at`` runs: the call
        itself at module level, or each module-level call of the top-level
        function it sits in (none if that function is used otherwise)."""
        index = self.index
        if scope is self._module:
            order = index.call_order.get(id(at))
            return [order] if order is not None else []
        function = scope
        while index.parent.get(id(function)) is not self._module:
            function = index.parent.get(id(function))
            if function is None:
                return []
        if not isinstance(function, cst.FunctionDef):
            return []  # a method: its class may be used anywhere
        key = ("points", id(function))
        if key not in self._order_cache:
            self._order_cache[key] = self._calls_of(function)
        return self._order_cache[key]

    def contents_of_parameter(self, name: str, at: cst.Call) -> Optional[Contents]:
        """A model handed to the top-level function around ``at`` as parameter
        ``name``: what the module-level calls of that function pass (each
        argument read where that call is). None when the function is not
        only called that way, or the argument cannot be matched."""
        index = self.index
        function = index.scope_of_call.get(id(at))
        while function is not None and index.parent.get(id(function)) is not self._module:
            function = index.parent.get(id(function))
        if not isinstance(function, cst.FunctionDef):
            return None
        params = [*function.params.posonly_params, *function.params.params]
        names = [p.name.value for p in params]
        if name not in names and name not in {p.name.value for p in function.params.kwonly_params}:
            return None
        position = names.index(name) if name in names else None
        if not self._calls_of(function):
            return None
        parts = []
        for call in self._module_call_nodes().get(function.name.value, ()):
            if index.call_order.get(id(call), 0) <= index.def_order.get(id(function), 0):
                continue
            argument = None
            for arg in call.args:
                if arg.star:
                    return None
                if arg.keyword is not None and arg.keyword.value == name:
                    argument = arg.value
            positional = [a.value for a in call.args if a.keyword is None]
            if argument is None and position is not None and position < len(positional):
                argument = positional[position]
            if argument is None:
                return None  # its default, or nothing: cannot tell
            if isinstance(argument, cst.Name):
                parts.append(self.contents_of_name(argument.value, at=call))
            else:
                parts.append(self.contents_of_expression(argument))
        return Contents.combine(parts) if parts else None

    def _module_call_nodes(self) -> Dict[str, List[cst.Call]]:
        cached = self._order_cache.get("module call nodes")
        if cached is None:
            cached = defaultdict(list)
            for call in self.index.scope_calls.get(id(self._module), ()):
                if isinstance(call.func, cst.Name):
                    cached[call.func.value].append(call)
            self._order_cache["module call nodes"] = cached
        return cached

    def _calls_of(self, function: cst.FunctionDef) -> List[int]:
        index = self.index
        fname = function.name.value
        defined = index.def_order.get(id(function), 0)
        orders = (index.call_order.get(id(call), 0) for call in self._module_call_nodes().get(fname, ()))
        points = [order for order in orders if order > defined]
        if len(points) != index.name_uses.get(fname, 0):
            return []  # also passed around or called from elsewhere
        return points

    def contents_of_expression(self, node: cst.CSTNode) -> Contents:
        scope = self.index.scope_of_call.get(id(node)) if isinstance(node, cst.Call) else None
        return self._expr(node, scope, 0, set())

    def training_state(self, name: str, at: Optional[cst.Call] = None) -> TrainingState:
        """How ``name.trainable`` is set anywhere in the file (for the same
        variable as ``name`` in ``at``'s scope, when ``at`` is given)."""
        scope = self._scope_at(at)
        memo = ("training state", name, id(scope) if scope is not None else None)
        known = self._order_cache.get(memo)
        if known is None:
            known = self._order_cache[memo] = self._training_state(name, scope)
        return known

    def _training_state(self, name: str, scope: Optional[cst.CSTNode]) -> TrainingState:
        index = self.index
        root = name.split(".", 1)[0]
        target = index.binding(name, scope) if scope is not None else None

        def same_variable(owner: Optional[str], where: cst.CSTNode) -> bool:
            if not _belongs_to(owner, name):
                return False
            return target is None or index.binding(root, where) is target

        frozen = unfrozen = False
        last_unfreeze = 0
        for item in index.trainable_sets_of(root):
            if not same_variable(item.owner, item.scope):
                continue
            flag = _literal_bool(item.value)
            if item.exact and item.owner == name:
                if flag is False:
                    frozen = True
                else:
                    unfrozen = True
                    last_unfreeze = max(last_unfreeze, item.order)
            elif flag is not False:
                unfrozen = True  # base.layers[-3].trainable = True
        for _, value in index.values(index.assignments, name, scope):
            if isinstance(value, cst.Call) and _literal_bool(_keyword(value, "trainable")) is False:
                frozen = True
        refrozen = index.last_batchnorm_refreeze() > last_unfreeze
        for loop in index.loops_of(root):
            if not same_variable(loop.owner, loop.scope):
                continue
            flags = [_literal_bool(value) for value, _ in loop.assignments]
            if any(flag is not False for flag in flags):
                unfrozen = True
            elif loop.whole and loop.owner == name and all(
                polarity is None for _, polarity in loop.assignments
            ):
                frozen = True  # for layer in base.layers: layer.trainable = False
        return TrainingState(frozen, unfrozen, refrozen and unfrozen)

    def is_graph_node(self, call: cst.Call) -> bool:
        """Is ``call`` a node of a functional graph: applied to a symbolic
        tensor (from ``keras.Input`` or a model's ``.output``) of its function,
        with a result that flows into a ``keras.Model(...)`` (or
        ``super().__init__(inputs, outputs)``) built in that function? A call
        that only builds a model on a dummy input is not a node."""
        scope = self.index.scope_of_call.get(id(call))
        if scope is None or id(call) not in self._graph_nodes(scope):
            return False
        symbolic = self._symbolic(scope)
        for arg in call.args:
            if arg.star:
                continue
            if arg.keyword is None or arg.keyword.value in ("inputs", "x"):
                if self._is_symbolic(arg.value, symbolic):
                    return True
        return False

    # -- functional graphs --------------------------------------------------
    def _graph_nodes(self, scope: cst.CSTNode) -> Set[int]:
        """ids of every node inside an expression that feeds a model built in
        ``scope``."""
        cached = self._graph_cache.get(id(scope))
        if cached is not None:
            return cached
        index = self.index
        roots: List[cst.CSTNode] = []
        work: List[Tuple[str, int]] = []
        for call in index.scope_calls.get(id(scope), []):
            if self._builds_model(call):
                for arg in call.args:
                    roots.append(arg.value)
                    work.extend((n, index.call_order[id(call)]) for n in _names_in(arg.value))
        # Follow each name back to its latest assignment before the use.
        assigns = index.scope_assigns.get(id(scope), [])
        visited: Set[Tuple[str, int]] = set()
        taken: Set[int] = set()
        while work:
            item = work.pop()
            if item in visited:
                continue
            visited.add(item)
            name, before = item
            latest = None
            for order, names, value in assigns:
                if order < before and name in names and (latest is None or order > latest[0]):
                    latest = (order, value)
            if latest is not None and id(latest[1]) not in taken:
                taken.add(id(latest[1]))
                roots.append(latest[1])
                work.extend((n, latest[0]) for n in _names_in(latest[1]))
        ids: Set[int] = set()
        stack = list(roots)
        while stack:
            current = stack.pop()
            ids.add(id(current))
            stack.extend(iter_children(current))
        self._graph_cache[id(scope)] = ids
        return ids

    def _builds_model(self, call: cst.Call) -> bool:
        if not call.args:
            return False
        func = call.func
        qualified = self._imports.resolve(func)
        if qualified is not None:
            last = qualified.rsplit(".", 1)[-1]
            return qualified.startswith("keras.") and last in ("Model", "Functional")
        if isinstance(func, cst.Attribute) and func.attr.value == "__init__":
            owner = func.value  # super().__init__(inputs=..., outputs=...)
            return isinstance(owner, cst.Call) and dotted(owner.func) == "super" and (
                len([a for a in call.args if a.keyword is None and not a.star]) >= 2
                or any(a.keyword is not None and a.keyword.value == "outputs" for a in call.args)
            )
        name = dotted(func)
        return name is not None and name.rsplit(".", 1)[-1] in ("Model", "Functional") and any(
            a.keyword is not None and a.keyword.value == "outputs" for a in call.args
        )

    # -- symbolic tensors ---------------------------------------------------
    def _symbolic(self, scope: cst.CSTNode) -> Set[str]:
        cached = self._symbolic_cache.get(id(scope))
        if cached is not None:
            return cached
        symbolic: Set[str] = set()
        assigns = self.index.scope_assigns.get(id(scope), [])
        changed = True
        while changed:
            changed = False
            for _, names, value in assigns:
                if all(n in symbolic for n in names):
                    continue
                if self._is_symbolic(value, symbolic):
                    symbolic.update(names)
                    changed = True
        self._symbolic_cache[id(scope)] = symbolic
        return symbolic

    def _is_symbolic(self, node: cst.CSTNode, symbolic: Set[str]) -> bool:
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, (cst.Name, cst.Attribute)):
                if dotted(current) in symbolic:
                    return True
                if isinstance(current, cst.Attribute):
                    owner = dotted(current.value)
                    if current.attr.value in _SYMBOLIC_ATTRIBUTES and owner not in ("self", "cls"):
                        return True
                    stack.append(current.value)
                continue
            if isinstance(current, cst.Call):
                qualified = self._imports.resolve(current.func)
                if qualified in _INPUTS:
                    return True
                if qualified in _MODEL_CONSTRUCTORS:
                    continue
                if isinstance(current.func, cst.Attribute) and current.func.attr.value in _NOT_TENSOR_METHODS:
                    continue
            if isinstance(current, cst.Arg):
                stack.append(current.value)
                continue
            if isinstance(current, (cst.Lambda, cst.FunctionDef)):
                continue
            stack.extend(iter_children(current))
        return False

    def exported(self, name: str, call: Optional[cst.Call] = None) -> Optional[Contents]:
        """What the module-level ``name`` of this file holds, for a file that
        imports it (``call``: the importing file's call of it, for a builder's
        literal flags); None when the file does not define it."""
        index = self.index
        if name in index.classes:
            return self._class(index.classes[name], 0, set())
        if name in index.functions:
            return self._scope(index.functions[name], 0, set(), call=call)
        if index.values(index.assignments, name, None):
            return self._name(name, None, 0, set())
        return self._imported(name, call)

    def _imported(self, name: Optional[str], call: Optional[cst.Call]) -> Optional[Contents]:
        """A name imported from another module of the project: what it holds
        there (project_models); None when it is not such a name."""
        if not name:
            return None
        if self._project_imports is None:
            from . import project_models

            self._project_imports = project_models.import_table(self._module)
        if not self._project_imports or name.startswith("self.") or name in _BUILTINS:
            return None
        from . import project_models

        return project_models.contents(self.path, self._project_imports, name, call, self.hops)

    def of_class(self, node: cst.ClassDef) -> Contents:
        """What an instance of a class of this file holds (its methods' layers and its bases)."""
        return self._class(node, 0, set())

    def of_scope(self, node: cst.CSTNode, kind: str = "any") -> Tri:
        """Layers constructed in a function, a class (its methods) or the module body."""
        return self._scope(node, 0, set()).kind(kind)

    def view(self, kind: str) -> "KindView":
        """The same questions, answered for one kind of layer only."""
        return KindView(self, kind)

    # -- evaluation ---------------------------------------------------------
    def _name(self, name: str, scope: Optional[cst.CSTNode], depth: int, seen: Set[int]) -> Contents:
        index = self.index
        pairs = index.values(index.assignments, name, scope) + index.values(index.added, name, scope)
        if not pairs:
            if scope is None or name not in _parameters(scope):
                foreign = self._imported(name, None)
                if foreign is not None:
                    return foreign  # ``from models import model``
            return self._unpacked(name, scope, depth, seen)  # else a parameter, a global from elsewhere …
        return Contents.combine(self._expr(v, s, depth + 1, seen) for s, v in pairs)

    def _unpacked(self, name: str, scope, depth: int, seen: Set) -> Contents:
        """``a, self.model = self.build()``: element i of each tuple the
        builder returns; UNKNOWN when it cannot be told."""
        index = self.index
        entries = index.unpacked.get(name, [])
        if scope is not None and entries:
            entries = index.by_variable(index.unpacked, name).get(id(index.binding(name, scope)), [])
        if not entries or depth > _MAX_DEPTH:
            return UNKNOWN
        parts = []
        for _, call, position in entries:
            callee = dotted(call.func)
            function = index.functions.get(callee or "") or self._own_method(call, callee)
            if function is None:
                return UNKNOWN
            returns = [n for n in iter_descendants(function.body) if isinstance(n, cst.Return)]
            if not returns:
                return UNKNOWN
            for returned in returns:
                value = returned.value
                if not isinstance(value, cst.Tuple) or position >= len(value.elements):
                    return UNKNOWN
                parts.append(self._expr(value.elements[position].value, function, depth + 1, seen))
        return Contents.combine(parts)

    def _expr(self, node: cst.CSTNode, scope: Optional[cst.CSTNode], depth: int, seen: Set[int]) -> Contents:
        known = self._known.get(id(node))
        if known is not None:
            return known  # reached again by another path (a model passed along)
        if depth > _MAX_DEPTH or id(node) in seen:
            return UNKNOWN  # too deep, or a cycle
        seen.add(id(node))
        if isinstance(node, (cst.Name, cst.Attribute)):
            name = dotted(node)
            result = self._name(name, scope, depth, seen) if name else UNKNOWN
        elif isinstance(node, (cst.List, cst.Tuple)):
            result = Contents.combine(self._expr(el.value, scope, depth + 1, seen) for el in node.elements)
        elif isinstance(node, cst.Call):
            result = self._call(node, depth, seen)
        else:
            return UNKNOWN
        if Tri.UNKNOWN not in (result.dropout, result.batchnorm, result.other):
            self._known[id(node)] = result  # a definite answer holds for every path
        return result

    def _call(self, node: cst.Call, depth: int, seen: Set[int]) -> Contents:
        if depth > _MAX_DEPTH:
            return UNKNOWN
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
            return self._class(index.classes[name], depth, seen)
        if name in index.functions:
            return self._scope(index.functions[name], depth, seen, call=node)
        method = self._own_method(node, name)
        if method is not None:
            return self._scope(method, depth, seen, call=node)  # self.build_generator()
        foreign = self._imported(name, node)
        return foreign if foreign is not None else UNKNOWN

    def _own_method(self, node: cst.Call, name: Optional[str]) -> Optional[cst.FunctionDef]:
        """``self.<method>(...)`` called inside a class that defines the method."""
        if not name or not name.startswith("self.") or name.count(".") != 1:
            return None
        scope = self.index.scope_of_call.get(id(node))
        while scope is not None and not isinstance(scope, cst.ClassDef):
            scope = self.index.parent.get(id(scope))
        if scope is None:
            return None
        for member in scope.body.body:
            if isinstance(member, cst.FunctionDef) and member.name.value == name[5:]:
                return member
        return None

    def _keras_call(self, qualified: str, node: cst.Call, depth: int, seen: Set[int]) -> Contents:
        last = qualified.rsplit(".", 1)[-1]
        scope = self.index.scope_of_call.get(id(node))
        if not qualified.startswith("keras."):
            if qualified == "tensorflow_hub.KerasLayer":
                trainable = _literal_bool(_keyword(node, "trainable"))
                return Contents(
                    Tri.UNKNOWN, Tri.UNKNOWN, Tri.UNKNOWN, frozen_means_inference=trainable is not True
                )
            return UNKNOWN  # keras_hub presets, tf.saved_model.load …
        if last in ("Input", "InputLayer"):
            return NOTHING
        if qualified.startswith("keras.applications."):
            return self._application(last, node)
        if last == "Sequential":
            layers = [a.value for a in node.args[:1] if a.keyword is None]
            layers += [a.value for a in node.args if a.keyword and a.keyword.value == "layers"]
            return Contents.combine(self._expr(v, scope, depth + 1, seen) for v in layers)
        if last in ("Model", "Functional"):
            if scope is None:
                return UNKNOWN
            traced = self._graph(node, scope, depth, seen)
            return traced if traced is not None else self._scope(scope, depth, seen)
        if last == "clone_model" and node.args:
            return self._expr(node.args[0].value, scope, depth + 1, seen)
        if qualified.startswith("keras.layers."):
            return self._layer(last, node, depth, seen)
        return UNKNOWN

    def _graph(self, model: cst.Call, scope: cst.CSTNode, depth: int, seen: Set) -> Optional[Contents]:
        """A functional ``Model(inputs, outputs)``: the layers on the paths
        from its outputs back to its inputs, each name read at the
        definition that reaches it (not every layer built in the scope: a
        notebook builds many models in one module). None when the graph
        cannot be followed within a budget (then the whole scope counts)."""
        outputs = _keyword(model, "outputs")
        if outputs is None:
            positional = [a for a in model.args if a.keyword is None]
            if len(positional) < 2:
                return None
            outputs = positional[1].value
        index = self.index
        params = _parameters(scope)
        found: List[Contents] = []
        pins: List[Optional[str]] = []  # per mode-dependent part: its node's literal training=
        visited: Set[int] = set()
        work = [(outputs, index.call_order.get(id(model), 0))]
        steps = 0
        while work:
            expr, limit = work.pop()
            steps += 1
            if steps > 2000:
                return None
            if id(expr) in visited:
                continue
            visited.add(id(expr))
            if isinstance(expr, cst.Name):
                if expr.value in params or expr.value in ("None", "True", "False"):
                    continue  # a tensor handed to the builder; a constant
                defs = self._defs_before(expr.value, scope, limit)
                if defs is None:
                    found.append(UNKNOWN)  # bound in a way the index does not record
                    continue
                work += [(value, index.value_order[id(value)][0]) for value in defs]
            elif isinstance(expr, cst.Attribute):
                if expr.attr.value in ("output", "outputs"):
                    found.append(self._expr(expr.value, scope, depth + 1, seen))  # base.output
            elif isinstance(expr, cst.Call):
                func = expr.func
                arguments = [(a.value, limit) for a in expr.args]
                if isinstance(func, cst.Call):
                    found.append(self._constructor(func, depth + 1, seen, applied=True))  # Dense(8)(x)
                    if found[-1].any is not Tri.NO:
                        pins.append(_node_pin(expr, found[-1]))
                    work += arguments
                    continue
                qualified = self._imports.resolve(func)
                last = (qualified or "").rsplit(".", 1)[-1]
                if last in ("Input", "InputLayer"):
                    continue
                name = dotted(func)
                if qualified is not None:
                    if qualified.startswith("keras.layers.") and last[:1].isupper():
                        found.append(self._constructor(expr, depth + 1, seen))
                    work += arguments  # keras.ops.add(a, b), tf.concat([a, b]) …
                elif name in index.functions:
                    found.append(self._scope(index.functions[name], depth + 1, seen, call=expr))
                    work += arguments
                elif name is not None and ("." not in name or name.startswith("self.")) and self._defs_before(name, scope, limit):
                    found.append(self._name(name, scope, depth + 1, seen))  # bn = BN(); bn(h); self.disc(x)
                    if found[-1].any is not Tri.NO:
                        pins.append(_node_pin(expr, found[-1]))
                    work += arguments
                elif name in _BUILTINS or (name or "").split(".", 1)[0] in _NOT_LAYER_ROOTS:
                    work += arguments  # list(sizes) + [n], np.prod(shape) …
                else:
                    found.append(UNKNOWN)
                    work += arguments
            elif isinstance(expr, (cst.List, cst.Tuple)):
                work += [(e.value, limit) for e in expr.elements]
            elif isinstance(expr, cst.Dict):
                work += [(e.value, limit) for e in expr.elements if isinstance(e, cst.DictElement)]
            elif isinstance(expr, cst.BinaryOperation):
                work += [(expr.left, limit), (expr.right, limit)]
            elif isinstance(expr, cst.Subscript):
                work.append((expr.value, limit))
        whole = Contents.combine(found)
        pinned_parts = [c for c, pin in zip((c for c in found if c.any is not Tri.NO), pins)] \
            if sum(c.any is not Tri.NO for c in found) == len(pins) else []
        def pinned_kinds(held, prefix=""):
            return frozenset(
                prefix + kind for kind in ("dropout", "batchnorm", "other")
                if pinned_parts and whole.kind(kind) is Tri.YES
                and all(held(pin) for c, pin in zip(pinned_parts, pins) if c.kind(kind) is not Tri.NO)
            )

        # "k": every part holding kind k has a True/False pin; "316:k": or a
        # literal None, which Keras 3.16 passes through to the layers (R1)
        kinds = pinned_kinds(lambda pin: pin in ("true", "literal")) | \
            pinned_kinds(lambda pin: pin is not None, "316:")
        if kinds:
            whole = replace(whole, pinned=whole.pinned | kinds)
        if whole.any is Tri.YES and pins and all(pin in ("true", "literal") for pin in pins) and \
                sum(c.any is not Tri.NO for c in found) == len(pins):
            # every part that could change with the mode is a pinned node
            whole = replace(whole, node_pins="true" if set(pins) == {"true"} else "literal")
        return whole

    def _defs_before(self, name: str, scope: cst.CSTNode, limit: int) -> Optional[List[cst.CSTNode]]:
        """The values of ``name`` that reach position ``limit`` in ``scope``:
        the last unconditional assignment before it and any conditional ones
        after that; None when the name has no recorded assignment there."""
        index = self.index
        pairs = [(s, v) for s, v in index.values(index.assignments, name, scope) if id(v) in index.value_order]
        earlier = sorted(
            ((index.value_order[id(v)], v) for s, v in pairs if index.value_order[id(v)][0] < limit),
            key=lambda item: item[0][0], reverse=True,
        )
        values = []
        for (order, conditional), value in earlier:
            values.append(value)
            if not conditional:
                return values
        return values or None

    def _application(self, name: str, node: cst.Call) -> Contents:
        entry = kk.APPLICATION_CONTENTS.get(name)
        if entry is None:
            # preprocess_input, decode_predictions …; an unknown model: unknown.
            return NOTHING if name[:1].islower() else UNKNOWN
        batchnorm, where = entry
        dropout = Tri.YES if where == "blocks" else Tri.NO
        if where == "top":
            include_top = _keyword(node, "include_top")
            dropout = Tri.YES if include_top is None else {True: Tri.YES, False: Tri.NO}.get(
                _literal_bool(include_top), Tri.UNKNOWN
            )
            rate = _keyword(node, kk.APPLICATION_DROPOUT_ARGUMENT.get(name, ""))
            if rate is not None and _is_zero(rate):
                dropout = Tri.NO
        return Contents(dropout=dropout, batchnorm=Tri.YES if batchnorm else Tri.NO)

    def _layer(self, name: str, node: Optional[cst.Call], depth: int, seen: Set[int]) -> Contents:
        if name == "TFSMLayer":
            # A SavedModel endpoint: `training` picks call_training_endpoint,
            # and without one every call runs the inference endpoint.
            trains = node is not None and _keyword(node, "call_training_endpoint") is not None
            return Contents(Tri.UNKNOWN, Tri.UNKNOWN, Tri.UNKNOWN, ignores_training=not trains)
        if name in kk.WRAPPERS and node is not None and node.args:
            scope = self.index.scope_of_call.get(id(node))
            return self._expr(node.args[0].value, scope, depth + 1, seen)
        if name in kk.DROPOUT_ARGUMENTS:
            if node is None:
                return Contents(dropout=Tri.UNKNOWN)
            rates = kk.DROPOUT_ARGUMENTS[name]
            has_rate = any(
                arg.keyword is not None and arg.keyword.value in rates and not _is_zero(arg.value)
                for arg in node.args
            )
            return Contents(dropout=Tri.YES if has_rate else Tri.NO)
        if name in kk.DROPOUT_LIKE:
            return Contents(dropout=Tri.YES)
        if name in kk.BATCHNORM_LIKE:
            return Contents(batchnorm=Tri.YES)
        if name in kk.AUGMENTATION:
            return Contents(other=Tri.YES)
        if name in kk.MODE_FREE or name in ("Layer", "Wrapper"):
            return NOTHING
        return UNKNOWN

    def _scope(self, scope: cst.CSTNode, depth: int, seen: Set, call: Optional[cst.Call] = None) -> Contents:
        """Layers constructed in a function, class or module body. For a
        builder function called with literal flags (``downsample(64, 4,
        apply_dropout=False)``, or its defaults), the branches those flags
        rule out (``if apply_dropout: block.add(Dropout(0.5))``) build nothing."""
        if depth > _MAX_DEPTH:
            return UNKNOWN
        bindings = _literal_flags(scope, call) if call is not None and isinstance(scope, cst.FunctionDef) else {}
        key = (id(scope), tuple(sorted(bindings.items()))) if bindings else id(scope)
        if key in seen:
            return NOTHING  # already being evaluated: it adds nothing new
        seen.add(key)
        calls = list(self.index.scope_calls.get(id(scope), []))
        if bindings:
            excluded = _ruled_out_calls(scope, bindings)
            calls = [c for c in calls if id(c) not in excluded]
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
        contents = Contents.combine(answers)
        # What the scope builds, not how it is called; but layers that all
        # treat `training=None` as training make the whole do so.
        return Contents(contents.dropout, contents.batchnorm, contents.other,
                        none_means_training=contents.none_means_training)

    def _class(self, node: cst.ClassDef, depth: int, seen: Set[int]) -> Contents:
        """An instance of a class defined in the file: the layers its methods
        build, plus what its base classes are."""
        if id(node) in seen:
            return NOTHING
        parts = [self._scope(node, depth, seen)]
        for base in node.bases:
            if base.keyword is None:
                parts.append(self._base_class(base.value, depth + 1, seen))
        contents = Contents.combine(parts)
        return Contents(
            contents.dropout, contents.batchnorm, contents.other,
            ignores_training=_call_pins_training(node),
            none_means_training=_treats_none_as_training(node) or contents.none_means_training,
            pinned=_pinned_in_call(node),
        )

    def _base_class(self, node: cst.CSTNode, depth: int, seen: Set[int]) -> Contents:
        qualified = self._imports.resolve(node)
        if qualified is not None:
            if qualified.startswith("keras.layers."):
                return self._layer(qualified.rsplit(".", 1)[-1], None, depth, seen)
            if qualified.split(".", 1)[0] in _OPAQUE_ROOTS:
                return UNKNOWN
            return NOTHING  # keras.Model, keras.Sequential, tf.Module …
        name = dotted(node)
        if name in self.index.classes:
            return self._class(self.index.classes[name], depth, seen)
        if name in _BUILTINS or name is None:
            return NOTHING
        foreign = self._imported(name, None)
        return foreign if foreign is not None else UNKNOWN  # a base class from elsewhere

    def _constructor(
        self, call: cst.Call, depth: int, seen: Set[int], applied: bool = False
    ) -> Contents:
        """A call met in a model-building scope: a layer, a sub-model, a helper,
        or noise. ``applied`` says its result is called on a tensor, so it is a
        layer even when we cannot see its class."""
        qualified = self._imports.resolve(call.func)
        name = dotted(call.func)
        last = (qualified or name or "").rsplit(".", 1)[-1]
        if last == "dropout":
            return Contents(dropout=Tri.YES)  # tf.nn.dropout, keras.random.dropout …
        if qualified is not None:
            if qualified.startswith(("keras.layers.", "keras.applications.")) or qualified in (
                "keras.Sequential", "keras.models.Sequential", "keras.Model",
                "keras.models.Model", "keras.models.clone_model",
            ):
                return self._keras_call(qualified, call, depth, seen)
            if qualified.split(".", 1)[0] in _OPAQUE_ROOTS or last in kk.OPAQUE_MODEL_SOURCES:
                return self._keras_call(qualified, call, depth, seen)
            return UNKNOWN if applied else NOTHING  # keras.Input, keras.ops.*, tf.concat …
        index = self.index
        if name in index.classes or name in index.functions:
            return self._call(call, depth, seen)
        foreign = self._imported(name, call)
        if foreign is not None:
            return foreign  # a class or builder of another module of the project
        if applied:
            return UNKNOWN  # an unseen class applied to a tensor
        if name is None:
            return NOTHING
        if last in kk.OPAQUE_MODEL_SOURCES:
            return UNKNOWN
        if last in kk.ADDON_MODE_FREE:
            return NOTHING  # tfa.layers.InstanceNormalization()
        if last in kk.ADDON_WRAPPERS and call.args and call.args[0].keyword is None:
            return self._constructor(call.args[0].value, depth + 1, seen) if isinstance(
                call.args[0].value, cst.Call) else UNKNOWN
        root = name.split(".", 1)[0]
        if ".distributions." in f".{name}" or root == "tfd":
            return NOTHING  # tfp.distributions.Normal(...): a distribution, not a layer
        if (
            last[:1].isupper()
            and root not in _NOT_LAYER_ROOTS
            and name not in _BUILTINS
            and not last.endswith(("Error", "Exception", "Warning"))
        ):
            return UNKNOWN  # ``Block(64)``: a class from elsewhere, likely a layer
        # print(), np.zeros(), self.method() are not layers.
        return NOTHING


def _names_in(node: cst.CSTNode) -> Set[str]:
    """Every dotted name (and its prefixes) read in an expression."""
    found: Set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.Name, cst.Attribute)):
            name = dotted(current)
            if name is not None:
                parts = name.split(".")
                found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
                continue
        if isinstance(current, cst.Arg):
            stack.append(current.value)
            continue
        stack.extend(iter_children(current))
    return found


def _parameters(scope: cst.CSTNode) -> Set[str]:
    if not isinstance(scope, cst.FunctionDef):
        return set()
    params = scope.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def _literal_flags(function: cst.FunctionDef, call: cst.Call) -> Dict[str, bool]:
    """The builder's boolean parameters whose value is known at this call:
    a literal True/False passed, or a literal default left alone."""
    if any(arg.star for arg in call.args):
        return {}
    params = [*function.params.posonly_params, *function.params.params]
    flags: Dict[str, bool] = {}
    for param in (*params, *function.params.kwonly_params):
        value = _literal_bool(param.default)
        if value is not None:
            flags[param.name.value] = value
    positional = [arg for arg in call.args if arg.keyword is None]
    for param, arg in zip(params, positional):
        _bind_flag(flags, param.name.value, arg.value)
    for arg in call.args:
        if arg.keyword is not None:
            _bind_flag(flags, arg.keyword.value, arg.value)
    return flags


def _bind_flag(flags: Dict[str, bool], name: str, value: cst.CSTNode) -> None:
    literal = _literal_bool(value)
    if literal is None:
        flags.pop(name, None)  # passed, but not as a literal: unknown
    else:
        flags[name] = literal


def _ruled_out_calls(function: cst.FunctionDef, flags: Dict[str, bool]) -> Set[int]:
    """Calls inside ``if flag:`` / ``if not flag:`` branches the flags rule out."""
    out: Set[int] = set()

    def drop(block) -> None:
        out.update(id(n) for n in iter_descendants(block) if isinstance(n, cst.Call))

    def test_value(test) -> Optional[bool]:
        if isinstance(test, cst.Name):
            return flags.get(test.value)
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = test_value(test.expression)
            return None if inner is None else not inner
        return None

    def branch(node: cst.If) -> None:
        value = test_value(node.test)
        if value is False:
            drop(node.body)
        else:
            visit(node.body)
        other = node.orelse
        if other is None:
            return
        if value is True:
            drop(other)
        elif isinstance(other, cst.If):
            branch(other)
        else:
            visit(other.body)

    def visit(block) -> None:
        for statement in getattr(block, "body", ()):
            if isinstance(statement, cst.If):
                branch(statement)
            elif isinstance(statement, (cst.For, cst.While, cst.With, cst.Try)):
                visit(statement.body)

    visit(function.body)
    return out


def _treats_none_as_training(node: cst.ClassDef) -> bool:
    """Its ``call`` gates its own ops on ``training is not False`` (so None
    means training) and calls no sub-layer that would get None."""
    for member in node.body.body:
        if isinstance(member, cst.FunctionDef) and member.name.value == "call":
            break
    else:
        return False
    # Attributes the class builds objects into (``self.drop = Dropout(...)``);
    # ``self.activation(x)`` on a function it was handed is not a sub-layer.
    built = set()
    for other in iter_descendants(node.body):
        if isinstance(other, cst.Assign) and isinstance(other.value, cst.Call):
            built.update(dotted(t.target) for t in other.targets)
    gated = False
    for sub in iter_descendants(member.body):
        if isinstance(sub, cst.Comparison) and isinstance(sub.left, cst.Name) and sub.left.value == "training":
            for target in sub.comparisons:
                if isinstance(target.operator, cst.IsNot) and isinstance(target.comparator, cst.Name) \
                        and target.comparator.value == "False":
                    gated = True
        if isinstance(sub, cst.Call):
            callee = dotted(sub.func) or ""
            if callee in built and callee.startswith("self.") and callee.count(".") == 1 and not any(
                a.keyword is not None and a.keyword.value == "training" for a in sub.args
            ):
                return False  # a sub-layer called without training gets None: inference
    return gated


_KIND_OF_CLASS = (("Dropout", "dropout"), ("BatchNormalization", "batchnorm"))


def _pinned_in_call(node: cst.ClassDef) -> FrozenSet[str]:
    """"all:<kind>" for each kind whose every sublayer (``self.x =
    layers.Dropout(...)``) the class's ``call`` calls only with a literal
    ``training=``: it keeps that mode whatever the model is called with, in
    every version."""
    methods = {m.name.value: m for m in node.body.body if isinstance(m, cst.FunctionDef)}
    if "call" not in methods or "__init__" not in methods:
        return frozenset()
    kinds: Dict[str, str] = {}  # attribute -> kind
    for sub in iter_descendants(methods["__init__"]):
        if isinstance(sub, cst.Assign) and len(sub.targets) == 1 and isinstance(sub.value, cst.Call):
            target, func = dotted(sub.targets[0].target) or "", dotted(sub.value.func) or ""
            for suffix, kind in _KIND_OF_CLASS:
                if target.startswith("self.") and target.count(".") == 1 and func.endswith(suffix):
                    kinds[target[5:]] = kind
    if not kinds:
        return frozenset()
    pinned: Dict[str, bool] = {}
    for sub in iter_descendants(methods["call"]):
        if isinstance(sub, cst.Call):
            name = dotted(sub.func) or ""
            if name.startswith("self.") and name[5:] in kinds:
                literal = any(a.keyword is not None and a.keyword.value == "training"
                              and _literal_bool(a.value) is not None for a in sub.args)
                kind = kinds[name[5:]]
                pinned[kind] = pinned.get(kind, True) and literal
    used = set(kinds.values())
    return frozenset(f"all:{kind}" for kind, ok in pinned.items() if ok and kind in used
                     and all(pinned.get(k2, False) for a, k2 in kinds.items() if k2 == kind))


def _call_pins_training(node: cst.ClassDef) -> bool:
    """Its ``call`` passes a literal ``training=`` and never reads its own
    ``training`` argument (``super().call(x, training=True)``; a wrapper
    calling ``self.base(x, training=False)``)."""
    for member in node.body.body:
        if isinstance(member, cst.FunctionDef) and member.name.value == "call":
            break
    else:
        return False
    pins = reads = 0
    stack = [member.body]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Arg):
            if current.keyword is not None and current.keyword.value == "training":
                if _literal_bool(current.value) is not None:
                    pins += 1
            stack.append(current.value)
            continue
        if isinstance(current, cst.Name) and current.value == "training":
            reads += 1
        stack.extend(iter_children(current))
    return pins > 0 and reads == 0


def _is_zero(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.Integer, cst.Float)) and float(node.value) == 0.0


class KindView:
    """``of_name``/``of_expression``/``of_scope`` for one kind ("batchnorm", …),
    sharing the index, for code that asks the same questions about one kind."""

    def __init__(self, contents: ModelContents, kind: str) -> None:
        self._contents = contents
        self.kind = kind
        self.index = contents.index

    @property
    def whole(self) -> ModelContents:
        """The analysis answering for every kind."""
        return self._contents

    def of_name(self, name: str, at: Optional[cst.Call] = None) -> Tri:
        return self._contents.of_name(name, self.kind, at)

    def of_expression(self, node: cst.CSTNode) -> Tri:
        return self._contents.of_expression(node, self.kind)

    def of_scope(self, node: cst.CSTNode) -> Tri:
        return self._contents.of_scope(node, self.kind)


def _node_pin(call: cst.Call, part: Contents) -> Optional[str]:
    """The literal ``training=`` of a graph node holding mode-dependent
    layers: "true" for True on a Dropout-only part, "literal" for another
    literal, None for none."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "training" and isinstance(arg.value, cst.Name):
            if arg.value.value == "True" and part.dropout is Tri.YES and part.batchnorm is Tri.NO \
                    and part.other is Tri.NO:
                return "true"
            if arg.value.value in ("True", "False"):
                return "literal"
            if arg.value.value == "None":
                return "none"
    return None
