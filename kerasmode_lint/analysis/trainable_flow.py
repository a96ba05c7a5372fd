"""The order of ``trainable`` changes, ``compile()`` and training calls (KM501–KM503).

What ``trainable`` does depends on *when* it is set relative to ``compile()``
and to the first training call (docs/semantics.md R12–R14):

* Keras 2 snapshots every layer's flag in ``compile()`` and restores the
  snapshot inside every ``fit``/``train_on_batch``: a change after
  ``compile()`` is ignored until the model is compiled again.
* Keras 3 (TensorFlow backend) fixes the trainable variables when the train
  function is first traced, i.e. at the first ``fit``/``train_on_batch`` after
  ``compile()``: changes before it count, changes after it are ignored until
  ``compile()`` (or ``make_train_function(force=True)``). Also, assigning the
  value a layer's own flag already has is skipped on the TensorFlow backend
  (``KerasAutoTrackable.__setattr__`` returns early when ``getattr(self,
  name) is value``), so it does not reach the sublayers.
* In both, the setter is recursive: ``base.trainable = True`` resets every
  layer inside ``base``, including BatchNormalization layers frozen before.

This module runs one small abstract interpretation per file and hands each
rule its findings. It walks statement lists in order (``Module.body``,
``IndentedBlock.body``): there are no positions before a report, and order is
all that matters here.

Model
    Objects are named by dotted paths (``D``, ``self.discriminator``,
    ``model.backbone``); locals of a function are prefixed ``f#`` so that
    inlined helpers do not clash. A *record* is one ``trainable`` assignment
    (object, value, time, the node to report). An object's flag is decided by
    the latest record on it or on one of its *ancestors*: dotted prefixes and
    the models built from it (``combined = Model(z, D(G(z)))`` makes
    ``combined`` an ancestor of ``D``; found by a backward slice through the
    tensor variables of the scope). ``for layer in base.layers:`` binds
    ``layer`` to ``base.layers``; an ``isinstance(layer, BatchNormalization)``
    guard (or a BN-looking layer name) narrows it to the BN layers. Two
    models built from the same tensors share their layers and are ancestors
    of each other. Rebinding a name (``model = load_model(...)``) forgets the
    old object's records and compile. Only code that assigns ``trainable``
    (itself or through a helper) is interpreted at all; one post-order scan
    per function finds it.

Paths
    An ``if`` whose branches change flags, compile or train forks the path
    (both continue; at most ``_MAX_PATHS``); loop bodies run twice (the second
    pass sees what the first left, which is what a GAN toggle loop is about);
    ``try`` bodies run, handlers do not; ``return``/``raise`` end a path.
    Calls of functions and ``self.`` methods defined in the file are inlined
    (depth ``_MAX_DEPTH``), binding parameters to the caller's objects and
    literal booleans, so ``make_trainable(D, False)`` is a record on ``D``
    reported at the call. Entry points: the module body, every function, and
    every class as ``__init__`` followed by each other method.

Findings (per path, deduplicated by node)
    At a training call on a compiled model ``T``, each object inside ``T`` is
    compared between now and the snapshot the version uses (Keras 2: at
    ``compile``; Keras 3: at the first training call after ``compile``). A
    record that makes them differ is *meant for this call* unless, between
    it and the call, another model containing the object was compiled or
    trained (the GAN recipe: ``D.trainable = False`` is there for
    ``combined.compile()``).

    * KM501: meant for this call and ignored (Keras 2: any change after
      ``compile``; Keras 3: a change after the first training call).
    * KM502 (Keras 3): at ``T``'s first training call the flags differ from
      those at ``T.compile()`` because of a record meant for another model:
      Keras 2 would use the compile-time flags, Keras 3 uses the current ones.
    * KM503: a BatchNormalization freeze whose flag, at a later compile,
      training call or the end of the path, is decided by a later
      ``container.trainable = True``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

import libcst as cst

from .keras_knowledge import BATCHNORM_LIKE
from .names import ImportTracker
from ..engine.screens import BN_TEXT, HELPER_NAME
from ..engine.versions import KerasVersion
from ..engine.walker import _child_fields, iter_children

TRAIN_METHODS = frozenset({"fit", "train_on_batch", "fit_generator"})
_EVENT_ATTRS = TRAIN_METHODS | {"trainable", "compile", "make_train_function"}
_LAYER_LISTS = frozenset({"layers", "submodules", "_flatten_layers", "_layers"})
# Shared with the screens for KM501-KM503, which must find at least what this finds.
_HELPER_NAME = re.compile(HELPER_NAME)
_BN_TEXT = re.compile(BN_TEXT)
_MODEL_CLASSES = frozenset({"Model", "Functional", "Container", "Network"})
_RECORD_KINDS = "records"
_EVENT, _RECORD = 1, 2
_OPAQUE = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})
_BLOCKS = frozenset({
    cst.If, cst.For, cst.While, cst.Try, cst.TryStar, cst.With, cst.Match,
    cst.IndentedBlock, cst.SimpleStatementSuite, cst.Module, cst.FunctionDef, cst.ClassDef,
})
_MAX_PATHS = 32
_MAX_DEPTH = 3

ALL, BN, NONBN, PART = "all", "bn", "nonbn", "part"


# -- data ---------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """An object, or a subset of the layers of one (``selector``)."""

    name: str
    selector: str = ALL
    tag: int = 0  # tells apart different partial selections (PART)

    @property
    def key(self) -> str:
        if self.selector == ALL:
            return self.name
        return f"{self.name}{{{self.selector}{self.tag or ''}}}"


@dataclass(frozen=True)
class Record:
    ref: Ref
    value: Optional[bool]  # None: not a literal
    time: int
    anchor: cst.CSTNode  # what a finding about it points at
    bn: bool  # the object is (a set of) BatchNormalization layers
    # Where its key entered the record dicts: their insertion order, so that
    # an index lookup can list records in the order a scan would have.
    seq: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Event:
    time: int
    kind: str  # "compile" | "train"
    model: str


@dataclass
class Compiled:
    time: int
    snapshot: Dict[str, Record]
    traced: Optional[Tuple[int, Dict[str, Record]]] = None


@dataclass
class Path:
    records: Dict[str, Record] = field(default_factory=dict)
    compiled: Dict[str, Compiled] = field(default_factory=dict)
    events: List[Event] = field(default_factory=list)
    returned: bool = False

    def copy(self) -> "Path":
        # Compiled entries are replaced, never changed in place: sharing them is safe.
        return Path(dict(self.records), dict(self.compiled), list(self.events), self.returned)


@dataclass
class Finding:
    code: str
    node: cst.CSTNode
    message: str  # one sentence
    explanation: str  # the whole story


@dataclass(frozen=True)
class Env:
    prefix: str = ""
    local_names: frozenset = frozenset()
    binds: Tuple[Tuple[str, object], ...] = ()  # name -> Ref | bool | None
    cls: Optional[cst.ClassDef] = None
    depth: int = 0
    anchor: Optional[cst.CSTNode] = None  # outermost inlined call
    stack: Tuple[int, ...] = ()

    def bound(self, name: str):
        for key, value in reversed(self.binds):
            if key == name:
                return True, value
        return False, None

    def bind(self, name: str, value) -> "Env":
        return replace(self, binds=self.binds + ((name, value),))


def display(name: str) -> str:
    """``train#model.base`` -> ``model.base``."""
    return re.sub(r"[\w.]*#", "", name)


# -- the analysis -------------------------------------------------------------
class TrainableFlow:
    def __init__(self, module: cst.Module, imports: ImportTracker, version: KerasVersion) -> None:
        self.module = module
        self.imports = imports
        self.keras2 = version.is_keras2
        self.functions: Dict[str, cst.FunctionDef] = {}
        self.classes: List[cst.ClassDef] = []
        self.all_functions: List[cst.FunctionDef] = []
        self.findings: Dict[str, List[Finding]] = {"KM501": [], "KM502": [], "KM503": []}
        self._reported: Set[Tuple[str, int]] = set()
        self._relevant: Dict[Tuple[str, int], bool] = {}
        self._locals: Dict[int, frozenset] = {}
        self._fact_cache: Dict[int, Tuple[int, frozenset]] = {}
        # Indexes, so that no query scans every record of a path (a long
        # script accumulates hundreds): the keys recorded for each object
        # name, the dotted names registered under each prefix, the keys
        # ever given a frozen-BatchNormalization record. Supersets across
        # paths and entries: a lookup still checks the path's own dict.
        self._seq = 0
        self.keys_of: Dict[str, Dict[str, None]] = {}
        self.extensions: Dict[str, Set[str]] = {}
        self.bn_frozen_keys: Dict[str, None] = {}
        self._index()
        # per entry run
        self.time = 0
        self.parents: Dict[str, Set[str]] = {}
        self.children: Dict[str, Set[str]] = {}  # the reverse of parents
        self.defs: Dict[str, Set[str]] = {}
        self.bn_objects: Set[str] = set()
        self.graphs: Dict[frozenset, List[str]] = {}

    # -- indexing -------------------------------------------------------------
    def _index(self) -> None:
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef):
                self.functions[stmt.name.value] = stmt
        functions: List[cst.FunctionDef] = []
        stack: List[cst.CSTNode] = list(self.module.body)
        while stack:  # statements only: functions and classes live there
            node = stack.pop()
            if isinstance(node, cst.ClassDef):
                self.classes.append(node)
            elif isinstance(node, cst.FunctionDef):
                functions.append(node)
            for name in ("body", "orelse", "handlers", "finalbody", "cases"):
                child = getattr(node, name, None)
                if isinstance(child, (list, tuple)):
                    stack.extend(child)
                elif isinstance(child, cst.CSTNode):
                    inner = getattr(child, "body", None)
                    if isinstance(child, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                        stack.extend(child.body)
                    elif isinstance(inner, cst.BaseSuite):
                        stack.append(child)
                    elif isinstance(child, cst.BaseCompoundStatement):
                        stack.append(child)
        self.methods: Set[int] = {id(m) for c in self.classes for m in _methods(c)}
        self.method_named: Dict[str, cst.FunctionDef] = {}  # the first class's method of a name
        self.class_methods: Dict[int, Dict[str, cst.FunctionDef]] = {}
        for cls in self.classes:
            own = self.class_methods[id(cls)] = {}
            for method in _methods(cls):
                own.setdefault(method.name.value, method)
                self.method_named.setdefault(method.name.value, method)
        self.all_functions = [f for f in reversed(functions) if id(f) not in self.methods]

    # -- driver -----------------------------------------------------------------
    def run(self) -> "TrainableFlow":
        # Only code that (through its helpers) assigns `trainable` can have a
        # finding; the rest is never interpreted.
        if self._has_event(self.module, _RECORD_KINDS):
            self._entry(self.module.body, Env())
        for cls in self.classes:
            methods = _methods(cls)
            if not any(self._has_event(m, _RECORD_KINDS) for m in methods):
                continue
            init = next((m for m in methods if m.name.value == "__init__"), None)
            start, graph = [Path()], None
            if init is not None:
                start = self._entry(init.body.body, self._env_for(init, cls))
                graph = self._graph()
            for method in methods:
                if method is init or not self._has_event(method):
                    continue
                self._entry(method.body.body, self._env_for(method, cls), [p.copy() for p in start], graph)
        for fn in self.all_functions:
            if self._has_event(fn, _RECORD_KINDS):
                self._entry(fn.body.body, self._env_for(fn, None))
        return self

    @staticmethod
    def _graph_copy(graph):
        time, parents, defs, bn_objects, graphs = graph
        return (
            time,
            {k: set(v) for k, v in parents.items()},
            {k: set(v) for k, v in defs.items()},
            set(bn_objects),
            {k: list(v) for k, v in graphs.items()},
        )

    def _env_for(self, fn: cst.FunctionDef, cls: Optional[cst.ClassDef], **kw) -> Env:
        return Env(prefix=fn.name.value, local_names=self._local_names(fn), cls=cls, **kw)

    def _graph(self):
        return self._graph_copy((self.time, self.parents, self.defs, self.bn_objects, self.graphs))

    def _set_graph(self, graph) -> None:
        self.time, self.parents, self.defs, self.bn_objects, self.graphs = graph
        self.children = {}
        for member, owners in self.parents.items():
            for owner in owners:
                self.children.setdefault(owner, set()).add(member)

    def _link(self, member: str, owner: str) -> None:
        """``owner`` contains ``member``."""
        self.parents.setdefault(member, set()).add(owner)
        self.children.setdefault(owner, set()).add(member)
        self._register(member)
        self._register(owner)

    def _register(self, name: str) -> None:
        """Index ``name`` under each of its dotted prefixes."""
        while "." in name:
            prefix = name.rsplit(".", 1)[0]
            under = self.extensions.setdefault(prefix, set())
            if name in under:
                return
            under.add(name)
            name = prefix

    def _entry(self, body: Iterable[cst.CSTNode], env: Env, paths: Optional[List[Path]] = None,
               graph=None) -> List[Path]:
        """Run a body from ``paths`` (default: nothing known) and the object
        graph ``graph`` (what ``__init__`` built, for the other methods)."""
        if graph is None:
            self._set_graph((0, {}, {}, set(), {}))
        else:
            self._set_graph(self._graph_copy(graph))
        paths = self._block(body, paths if paths is not None else [Path()], env)
        for path in paths:
            path.returned = False
            self._check_bn(path)
        return paths

    # -- statements -------------------------------------------------------------
    def _block(self, stmts: Iterable[cst.CSTNode], paths: List[Path], env: Env) -> List[Path]:
        for stmt in stmts:
            live = [p for p in paths if not p.returned]
            done = [p for p in paths if p.returned]
            if not live:
                return paths
            paths = done + self._stmt(stmt, live, env)
        return paths

    def _stmt(self, stmt: cst.CSTNode, paths: List[Path], env: Env) -> List[Path]:
        if isinstance(stmt, cst.BaseSmallStatement):  # body of a one-line `for ...: stmt`
            return self._small(stmt, paths, env)
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                paths = self._small(small, [p for p in paths if not p.returned], env) + [
                    p for p in paths if p.returned
                ]
            return paths
        if isinstance(stmt, cst.If):
            return self._if(stmt, paths, env)
        if isinstance(stmt, (cst.For, cst.While)):
            body_env = env
            if isinstance(stmt, cst.For):
                for call in _calls(stmt.iter):
                    paths = self._call(call, paths, env)
                if isinstance(stmt.target, cst.Name):
                    body_env = env.bind(stmt.target.value, self._layer_list(stmt.iter, env))
            else:
                for call in _calls(stmt.test):
                    paths = self._call(call, paths, env)
            times = 2 if self._has_event(stmt.body) else 1
            for _ in range(times):
                paths = self._block(stmt.body.body, paths, body_env)
            if stmt.orelse is not None:
                paths = self._block(stmt.orelse.body.body, paths, env)
            return paths
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            paths = self._block(stmt.body.body, paths, env)
            if stmt.orelse is not None:
                paths = self._block(stmt.orelse.body.body, paths, env)
            if stmt.finalbody is not None:
                paths = self._block(stmt.finalbody.body.body, paths, env)
            return paths
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                for call in _calls(item.item):
                    paths = self._call(call, paths, env)
            return self._block(stmt.body.body, paths, env)
        if isinstance(stmt, cst.Match):
            branches: List[Path] = []
            for case in stmt.cases:
                branches += self._block(case.body.body, [p.copy() for p in paths], env)
            return self._cap(branches + [p.copy() for p in paths])
        return paths  # FunctionDef, ClassDef: definitions, not executed here

    def _if(self, stmt: cst.If, paths: List[Path], env: Env) -> List[Path]:
        for call in _calls(stmt.test):
            paths = self._call(call, paths, env)
        guard = self._bn_guard(stmt.test, env)
        orelse = stmt.orelse
        else_body: List[cst.CSTNode] = []
        if isinstance(orelse, cst.Else):
            else_body = list(orelse.body.body)
        elif isinstance(orelse, cst.If):
            else_body = [orelse]
        if guard is not None:
            # "for each layer: if it is a BN layer: ..." is about a subset of
            # the layers, not a branch of the program.
            var, ref, negated = guard
            bn_env = env.bind(var, Ref(ref.name, NONBN if negated else BN))
            other_env = env.bind(var, Ref(ref.name, BN if negated else NONBN))
            paths = self._block(stmt.body.body, paths, bn_env)
            return self._block(else_body, paths, other_env)
        if not self._has_event(stmt):
            paths = self._block(stmt.body.body, paths, env)
            return self._block(else_body, paths, env)
        taken = self._block(stmt.body.body, [p.copy() for p in paths], env)
        skipped = self._block(else_body, paths, env)
        return self._cap(taken + skipped)

    @staticmethod
    def _cap(paths: List[Path]) -> List[Path]:
        return paths[:_MAX_PATHS]

    def _small(self, small: cst.CSTNode, paths: List[Path], env: Env) -> List[Path]:
        if isinstance(small, (cst.Return, cst.Raise)):
            value = small.value if isinstance(small, cst.Return) else small.exc
            if value is not None:
                for call in _calls(value):
                    paths = self._call(call, paths, env)
            if isinstance(small, cst.Raise):
                return []
            for p in paths:
                p.returned = True
            return paths
        if isinstance(small, cst.Assign):
            paths = self._assign_calls(small.value, paths, env)
            for target in small.targets:
                paths = self._assign(target.target, small.value, small, paths, env)
            return paths
        if isinstance(small, cst.AnnAssign):
            if small.value is None:
                return paths
            paths = self._assign_calls(small.value, paths, env)
            return self._assign(small.target, small.value, small, paths, env)
        if isinstance(small, cst.AugAssign):
            return self._assign_calls(small.value, paths, env)
        if isinstance(small, cst.Expr):
            return self._assign_calls(small.value, paths, env)
        return paths

    def _assign_calls(self, value: cst.CSTNode, paths: List[Path], env: Env) -> List[Path]:
        for call in _calls(value):
            paths = self._call(call, paths, env)
        return paths

    # -- assignments ------------------------------------------------------------
    def _assign(self, target: cst.CSTNode, value: cst.CSTNode, stmt: cst.CSTNode,
                paths: List[Path], env: Env) -> List[Path]:
        if isinstance(target, cst.Attribute) and target.attr.value == "trainable":
            ref = self._ref(target.value, env)
            if ref is None:
                return paths
            anchor = env.anchor or stmt
            split = self._bn_value(value, target.value, env)
            if split is not None and ref.selector in (ALL, PART):
                bn_value = split
                for p in paths:
                    self._record(p, Ref(ref.name, BN), bn_value, anchor)
                    self._record(p, Ref(ref.name, NONBN), not bn_value, anchor)
                return paths
            literal = self._value(value, env)
            if ref.selector == PART:
                ref = Ref(ref.name, PART, id(anchor))
            for p in paths:
                self._record(p, ref, literal, anchor)
            return paths
        targets = [e.value for e in target.elements] if isinstance(target, (cst.Tuple, cst.List)) else [target]
        for element in targets:
            name = self._name(element, env)
            if name is not None:
                self._forget(name, paths)
                self._define(name, value, env)
        return paths

    def _forget(self, name: str, paths: List[Path]) -> None:
        """``name = ...`` binds a new object: its old flags and compile are gone."""
        names = self._with_extensions(name)
        keys = [key for n in names for key in self.keys_of.get(n, ())]
        for path in paths:
            records, compiled = path.records, path.compiled
            for key in keys:
                if key in records:
                    del records[key]
            for model in names:
                if model in compiled:
                    del compiled[model]

    def _with_extensions(self, name: str) -> List[str]:
        """``name`` and every registered name that starts with ``name.``."""
        found, todo = [name], [name]
        while todo:
            under = self.extensions.get(todo.pop())
            if under:
                found.extend(under)
                todo.extend(under)
        return found

    def _define(self, name: str, value: cst.CSTNode, env: Env) -> None:
        refs = self._refs(value, env)
        closure: Set[str] = set()
        for ref in refs:
            closure.add(ref)
            closure |= self.defs.get(ref, set())
        closure.discard(name)
        self.defs[name] = closure
        for member in closure:
            self._link(member, name)
        if self._is_bn_constructor(value):
            self.bn_objects.add(name)
        if isinstance(value, cst.Call) and _last_name(value.func) in _MODEL_CLASSES and closure:
            # Two models built from the same tensors share their layers
            # (keras#8585's frozen "Container" view of the discriminator).
            key = frozenset(closure)
            for other in self.graphs.setdefault(key, []):
                if other != name:
                    self._link(other, name)
                    self._link(name, other)
            self.graphs[key].append(name)

    def _record(self, path: Path, ref: Ref, value: Optional[bool], anchor: cst.CSTNode) -> None:
        if not self.keras2 and value is not None and ref.selector == ALL:
            prior = self._decide(path.records, ref)
            prior_value = True if prior is None else prior.value
            same_object = (path.records.get(key) for key in self.keys_of.get(ref.name, ()))
            subsets_differ = any(
                r is not None and r.ref.selector != ALL and r.value is not value
                and (prior is None or r.time > prior.time)
                for r in same_object
            )
            if prior_value is value and not subsets_differ:
                # Keras 3 (TF): assigning the flag an object already has is
                # skipped and does not reach its sublayers. (A loop over
                # `base.layers` reaches each layer's own flag, hence subsets.)
                return
        self.time += 1
        bn = ref.selector == BN or ref.name in self.bn_objects or ref.name.startswith("<bn>")
        key = ref.key
        old = path.records.get(key)
        if old is not None:
            seq = old.seq  # the key keeps its place in the dict
        else:
            self._seq += 1
            seq = self._seq
        path.records[key] = Record(ref, value, self.time, anchor, bn, seq)
        self.keys_of.setdefault(ref.name, {})[key] = None
        self._register(ref.name)
        if bn and value is False:
            self.bn_frozen_keys[key] = None

    # -- calls ------------------------------------------------------------------
    def _call(self, call: cst.Call, paths: List[Path], env: Env) -> List[Path]:
        func = call.func
        if self._is_bn_constructor(call, frozen_only=True):
            for p in paths:
                self._record(p, Ref(f"<bn>{id(call)}"), False, env.anchor or call)
            return paths
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in TRAIN_METHODS or method in ("compile", "make_train_function"):
                ref = self._ref(func.value, env)
                if ref is None or ref.selector != ALL:
                    return paths
                for p in paths:
                    if method == "compile":
                        self._compile(p, ref.name)
                    elif method == "make_train_function":
                        self._retrace(p, ref.name, call)
                    else:
                        self._train(p, ref.name, call, method)
                return paths
            if method == "add" and call.args:
                owner = self._name(func.value, env)
                if owner is not None:
                    for member in self._refs(call.args[0].value, env):
                        self._link(member, owner)
                return paths
        callee = self._callee(func, env)
        if callee is not None:
            return self._inline(callee, call, paths, env)
        helper = _last_name(func)
        if helper is not None and _HELPER_NAME.search(helper) and self.imports.resolve(func) is None:
            return self._helper(call, helper, paths, env)
        return paths

    def _helper(self, call: cst.Call, helper: str, paths: List[Path], env: Env) -> List[Path]:
        """``make_trainable(D, False)`` / ``freeze(base)`` defined elsewhere."""
        value: Optional[bool] = None
        targets: List[Ref] = []
        for arg in call.args:
            literal = self._value(arg.value, env)
            if literal is not None:
                value = literal
                continue
            ref = self._ref(arg.value, env)
            if ref is not None and arg.keyword is None:
                targets.append(ref)
        if not targets and isinstance(call.func, cst.Attribute):
            receiver = self._ref(call.func.value, env)  # `backbone.freeze()`
            if receiver is not None:
                targets.append(receiver)
        if value is None:
            lowered = helper.lower()
            if "unfreez" in lowered:
                value = True
            elif "freez" in lowered:
                value = False
        anchor = env.anchor or call
        for p in paths:
            for ref in targets[:1]:
                self._record(p, ref, value, anchor)
        return paths

    def _callee(self, func: cst.CSTNode, env: Env) -> Optional[Tuple[cst.FunctionDef, bool]]:
        if isinstance(func, cst.Name):
            bound, _ = env.bound(func.value)
            if bound or func.value in env.local_names:
                return None
            fn = self.functions.get(func.value)
            return (fn, False) if fn is not None else None
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == "self"
            and env.cls is not None
        ):
            method = self.class_methods[id(env.cls)].get(func.attr.value)
            if method is not None:
                return method, True
        return None

    def _inline(self, callee: Tuple[cst.FunctionDef, bool], call: cst.Call,
                paths: List[Path], env: Env) -> List[Path]:
        fn, is_method = callee
        if env.depth >= _MAX_DEPTH or id(fn) in env.stack or not self._has_event(fn):
            return paths
        params = list(fn.params.posonly_params) + list(fn.params.params)
        if is_method and params and params[0].name.value == "self":
            params = params[1:]
        names = [p.name.value for p in params] + [p.name.value for p in fn.params.kwonly_params]
        values: Dict[str, object] = {}
        positional = [a for a in call.args if a.keyword is None and not a.star]
        for param, arg in zip(params, positional):
            values[param.name.value] = self._argument(arg.value, env)
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in names:
                values[arg.keyword.value] = self._argument(arg.value, env)
        for param in params + list(fn.params.kwonly_params):
            if param.name.value not in values and param.default is not None:
                values[param.name.value] = self._value(param.default, env)
        inner = Env(
            prefix=fn.name.value,
            local_names=self._local_names(fn),
            cls=env.cls if is_method else None,
            depth=env.depth + 1,
            anchor=env.anchor or call,
            stack=env.stack + (id(fn),),
        )
        for name, value in values.items():
            inner = inner.bind(name, value)
        out = self._block(fn.body.body, paths, inner)
        for p in out:
            p.returned = False
        return out

    def _argument(self, node: cst.CSTNode, env: Env):
        literal = self._value(node, env)
        if literal is not None:
            return literal
        return self._ref(node, env)

    # -- compile / train events ------------------------------------------------
    def _compile(self, path: Path, model: str) -> None:
        self.time += 1
        path.compiled[model] = Compiled(self.time, dict(path.records))
        self._register(model)
        path.events.append(Event(self.time, "compile", model))
        self._check_bn(path)

    def _retrace(self, path: Path, model: str, call: cst.Call) -> None:
        forced = any(
            a.keyword is not None and a.keyword.value == "force" and self._value(a.value, Env()) is True
            for a in call.args
        )
        compiled = path.compiled.get(model)
        if forced and compiled is not None and not self.keras2:
            path.compiled[model] = Compiled(compiled.time, compiled.snapshot, None)

    def _train(self, path: Path, model: str, call: cst.Call, method: str) -> None:
        self.time += 1
        compiled = path.compiled.get(model)
        if compiled is not None:
            if self.keras2:
                self._check_ignored(path, model, method, compiled.time, compiled.snapshot, "2")
            elif compiled.traced is None:
                compiled = Compiled(compiled.time, compiled.snapshot, (self.time, dict(path.records)))
                path.compiled[model] = compiled
                self._check_recipe(path, model, method, compiled)
            else:
                self._check_ignored(path, model, method, compiled.traced[0], compiled.traced[1], "3")
        path.events.append(Event(self.time, "train", model))
        self._check_bn(path)

    # -- checks -----------------------------------------------------------------
    def _inside(self, ref: Ref, model: str) -> bool:
        return ref.name == model or model in self._ancestors(ref.name)

    def _descendants(self, model: str) -> Set[str]:
        """Every name whose object is inside ``model`` (``model`` among its
        ancestors), ``model`` included: the ancestor walk run backwards."""
        found, todo = {model}, [model]
        while todo:
            current = todo.pop()
            nexts = list(self.children.get(current, ()))
            if current != "self" and not current.endswith("#self"):
                nexts += self.extensions.get(current, ())
            for nxt in nexts:
                if nxt not in found:
                    found.add(nxt)
                    todo.append(nxt)
        return found

    def _keys_inside(self, model: str, *record_sets: Dict[str, Record]) -> List[Ref]:
        """The records' objects inside ``model``, in the records' order."""
        keys = [key for name in self._descendants(model) for key in self.keys_of.get(name, ())]
        seen: Dict[str, Ref] = {}
        for records in record_sets:
            present = sorted((records[key].seq, key) for key in keys if key in records and key not in seen)
            for _, key in present:
                seen[key] = records[key].ref
        return list(seen.values())

    def _meant_for_other(self, path: Path, record: Record, model: str) -> Optional[Event]:
        """An event between the record and now that the record was for."""
        events = path.events
        low, high = 0, len(events)
        while low < high:  # the first event after the record (times only grow)
            middle = (low + high) // 2
            if events[middle].time <= record.time:
                low = middle + 1
            else:
                high = middle
        for event in events[low:]:
            if event.model == model:
                continue
            if self._inside(record.ref, event.model):
                return event
        return None

    def _check_ignored(self, path: Path, model: str, method: str, since: int,
                       snapshot: Dict[str, Record], flavour: str) -> None:
        for ref in self._keys_inside(model, path.records, snapshot):
            now = self._decide(path.records, ref)
            then = self._decide(snapshot, ref)
            if now is None or now.time <= since or now.value is None:
                continue
            then_value = True if then is None else then.value
            if then_value is None or then_value is now.value:
                continue
            if self._meant_for_other(path, now, model) is not None:
                continue
            self._report("KM501", now.anchor, _ignored_message(now, model, method, flavour))

    def _check_recipe(self, path: Path, model: str, method: str, compiled: Compiled) -> None:
        for ref in self._keys_inside(model, path.records, compiled.snapshot):
            now = self._decide(path.records, ref)
            then = self._decide(compiled.snapshot, ref)
            if now is None or now.time <= compiled.time or now.value is None:
                continue
            then_value = True if then is None else then.value
            if then_value is None or then_value is now.value:
                continue
            other = self._meant_for_other(path, now, model)
            if other is None:
                continue
            self._report("KM502", now.anchor, _recipe_message(now, model, method, other))

    def _check_bn(self, path: Path) -> None:
        records = path.records
        frozen = sorted(
            (record.seq, key) for key, record in
            ((key, records.get(key)) for key in self.bn_frozen_keys)
            if record is not None and record.bn and record.value is False
        )
        for _, key in frozen:
            record = records[key]
            decider = self._decide(path.records, record.ref)
            if (
                decider is None
                or decider is record
                or decider.value is not True
                or decider.time <= record.time
                or decider.ref.selector != ALL
            ):
                continue
            self._report("KM503", decider.anchor, _bn_message(decider, record))

    def _report(self, code: str, node: cst.CSTNode, texts: Tuple[str, str]) -> None:
        key = (code, id(node))
        if key not in self._reported:
            self._reported.add(key)
            self.findings[code].append(Finding(code, node, *texts))

    # -- flags ------------------------------------------------------------------
    def _decide(self, records: Dict[str, Record], ref: Ref) -> Optional[Record]:
        """The record that decides the flag of ``ref`` (None: never set)."""
        best = records.get(ref.key)
        candidates = [ref.name] if ref.selector != ALL else []
        candidates += self._ancestors(ref.name)
        for name in candidates:
            record = records.get(name)
            if record is not None and (best is None or record.time > best.time):
                best = record
        return best

    def _ancestors(self, name: str) -> List[str]:
        found: List[str] = []
        seen = {name}
        todo = [name]
        while todo:
            current = todo.pop()
            nexts = list(self.parents.get(current, ()))
            if "." in current:
                prefix = current.rsplit(".", 1)[0]
                if prefix != "self" and not prefix.endswith("#self"):
                    nexts.append(prefix)
            for nxt in nexts:
                if nxt not in seen:
                    seen.add(nxt)
                    found.append(nxt)
                    todo.append(nxt)
        return found

    # -- expressions ------------------------------------------------------------
    def _name(self, node: cst.CSTNode, env: Env) -> Optional[str]:
        ref = self._ref(node, env)
        return ref.name if ref is not None and ref.selector == ALL else None

    def _ref(self, node: cst.CSTNode, env: Env) -> Optional[Ref]:
        if isinstance(node, cst.Name):
            bound, value = env.bound(node.value)
            if bound:
                return value if isinstance(value, Ref) else None
            if node.value in env.local_names and node.value != "self":
                return Ref(f"{env.prefix}#{node.value}")
            return Ref(node.value)
        if isinstance(node, cst.Attribute):
            base = self._ref(node.value, env)
            if base is None:
                return None
            if base.selector != ALL:
                return Ref(base.name, PART)
            return Ref(f"{base.name}.{node.attr.value}")
        if isinstance(node, cst.Subscript):
            base = self._ref(node.value, env)
            return Ref(base.name, PART) if base is not None else None
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            owner = self._ref(node.func.value, env)
            if owner is None or owner.selector != ALL:
                return None
            if node.func.attr.value == "get_layer":
                texts = [a.value for a in node.args if isinstance(a.value, cst.SimpleString)]
                bn = any(_BN_TEXT.search(t.evaluated_value or "") for t in texts if isinstance(t.evaluated_value, str))
                return Ref(f"{owner.name}.layers", BN if bn else PART)
            if node.func.attr.value in _LAYER_LISTS:
                return Ref(f"{owner.name}.layers")
        return None

    def _layer_list(self, iterable: cst.CSTNode, env: Env) -> Optional[Ref]:
        """``for layer in <iterable>``: the layers it walks, if it is a layer list."""
        node, selector = iterable, ALL
        if isinstance(node, cst.Subscript):
            node, selector = node.value, PART
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _LAYER_LISTS:
            node = node.func
        if isinstance(node, cst.Attribute) and node.attr.value in _LAYER_LISTS:
            owner = self._ref(node.value, env)
            if owner is not None and owner.selector == ALL:
                return Ref(f"{owner.name}.layers", selector)
        return None

    def _value(self, node: cst.CSTNode, env: Env) -> Optional[bool]:
        if isinstance(node, cst.Name):
            if node.value == "True":
                return True
            if node.value == "False":
                return False
            bound, value = env.bound(node.value)
            if bound and isinstance(value, bool):
                return value
            return None
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            inner = self._value(node.expression, env)
            return None if inner is None else not inner
        return None

    def _refs(self, node: cst.CSTNode, env: Env) -> Set[str]:
        """Objects an expression is built from (for "model M contains X")."""
        found: Set[str] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, (cst.Name, cst.Attribute)):
                self._add_chain(current, env, found)
                if isinstance(current, cst.Attribute):
                    stack.append(current.value)
                continue
            if isinstance(current, cst.Call):
                if self._is_bn_constructor(current, frozen_only=True):
                    found.add(f"<bn>{id(current)}")
            if isinstance(current, (cst.Lambda, cst.FunctionDef)):
                continue
            stack.extend(iter_children(current))
        return found

    def _add_chain(self, node: cst.CSTNode, env: Env, found: Set[str]) -> None:
        if self.imports.resolve(node) is not None:
            return  # keras.layers.Dense, tf.concat …
        ref = self._ref(node, env)
        if ref is not None and ref.name not in ("self",) and not ref.name.endswith("#self"):
            found.add(ref.name)

    def _is_bn_constructor(self, node: cst.CSTNode, frozen_only: bool = False) -> bool:
        if not isinstance(node, cst.Call):
            return False
        if not _is_bn_class(node.func, self.imports):
            return False
        if not frozen_only:
            return True
        return any(
            a.keyword is not None and a.keyword.value == "trainable" and self._value(a.value, Env()) is False
            for a in node.args
        )

    def _bn_guard(self, test: cst.CSTNode, env: Env) -> Optional[Tuple[str, Ref, bool]]:
        negated = False
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            negated, test = not negated, test.expression
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And) and not negated:
            for side in (test.left, test.right):
                found = self._bn_guard(side, env)
                if found is not None and not found[2]:
                    return found
            return None
        var = self._bn_test_var(test)
        if var is None:
            return None
        bound, value = env.bound(var)
        if not bound or not isinstance(value, Ref) or value.selector not in (ALL, PART):
            return None
        return var, value, negated

    def _bn_value(self, value: cst.CSTNode, target: cst.CSTNode, env: Env) -> Optional[bool]:
        """``layer.trainable = not isinstance(layer, BatchNormalization)``: the BN part's value."""
        negated = False
        while isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Not):
            negated, value = not negated, value.expression
        var = self._bn_test_var(value)
        if var is None or not (isinstance(target, cst.Name) and target.value == var):
            return None
        return not negated

    def _bn_test_var(self, test: cst.CSTNode) -> Optional[str]:
        """The loop variable a "is this a BatchNormalization layer?" test is about."""
        if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance":
            if len(test.args) == 2 and isinstance(test.args[0].value, cst.Name):
                classes = test.args[1].value
                options = [e.value for e in classes.elements] if isinstance(classes, (cst.Tuple, cst.List)) else [classes]
                if options and all(_is_bn_class(c, self.imports) for c in options):
                    return test.args[0].value.value
            return None
        strings = [n for n in _walk(test) if isinstance(n, cst.SimpleString)]
        if not strings or not all(
            isinstance(s.evaluated_value, str) and _BN_TEXT.search(s.evaluated_value) for s in strings
        ):
            return None
        if not isinstance(test, (cst.Comparison, cst.Call)):
            return None
        names = {n.value for n in _walk(test) if isinstance(n, cst.Name)}
        names -= {"type", "str", "isinstance", "True", "False", "None"}
        heads = [n for n in _walk(test) if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name)]
        owners = {h.value.value for h in heads if h.attr.value in ("name", "__class__", "_name")}
        calls = [n for n in _walk(test) if isinstance(n, cst.Call) and isinstance(n.func, cst.Name)
                 and n.func.value in ("type", "str") and n.args and isinstance(n.args[0].value, cst.Name)]
        owners |= {c.args[0].value.value for c in calls}
        return next(iter(owners)) if len(owners) == 1 and owners <= names else None

    # -- relevance --------------------------------------------------------------
    def _has_event(self, node: cst.CSTNode, kinds: str = "events", _stack: Tuple[int, ...] = ()) -> bool:
        """Does the node (transitively, through helpers) touch flags, compile or
        train (``kinds="events"``), or assign a flag at all (``_RECORD_KINDS``)?"""
        memo = (kinds, id(node))
        known = self._relevant.get(memo)
        if known is not None:
            return known
        if id(node) in _stack:
            return False
        if isinstance(node, cst.ClassDef):
            found = any(self._has_event(m, kinds, _stack) for m in _methods(node))
        else:
            facts = self._facts(node)
            found = bool(facts[0] & (_RECORD if kinds == _RECORD_KINDS else _EVENT))
            if not found:
                for callee in facts[1]:
                    target = self._resolve_callee(callee)
                    if target is not None and target is not node and self._has_event(
                        target, kinds, _stack + (id(node),)
                    ):
                        found = True
                        break
        if found or not _stack:
            self._relevant[memo] = found
        return found

    def _resolve_callee(self, callee: str) -> Optional[cst.FunctionDef]:
        if callee.startswith("self."):
            return self.method_named.get(callee[5:])
        return self.functions.get(callee)

    def _facts(self, node: cst.CSTNode):
        """(flags, callees) of a node, from one post-order scan of its function."""
        facts = self._fact_cache.get(id(node))
        if facts is None:
            root = node
            self._scan(root)
            facts = self._fact_cache.get(id(node), (0, frozenset()))
        return facts

    def _scan(self, root: cst.CSTNode) -> None:
        """Post-order scan of ``root`` (not entering nested functions/classes):
        flags and helper callees for every compound statement and block."""
        stack: List[Tuple[cst.CSTNode, Optional[list]]] = [(root, None)]
        results: Dict[int, Tuple[int, Set[str]]] = {}
        functions = self.functions
        while stack:
            current, children = stack.pop()
            kind = type(current)
            if children is None:
                if current is not root and kind in _OPAQUE:
                    continue  # scanned on its own; contributes nothing here
                children = _children(current)
                stack.append((current, children))
                stack.extend((child, None) for child in children)
                continue
            flags, callees = 0, set()
            for child in children:
                found = results.pop(id(child), None)
                if found is not None:
                    flags |= found[0]
                    if found[1]:
                        callees.update(found[1])
            if kind is cst.Attribute:
                if current.attr.value in _EVENT_ATTRS:
                    flags |= _EVENT
            elif kind is cst.AssignTarget:
                target = current.target
                if type(target) is cst.Attribute and target.attr.value == "trainable":
                    flags |= _RECORD
            elif kind is cst.Arg:
                if current.keyword is not None and current.keyword.value == "trainable":
                    flags |= _RECORD
            elif kind is cst.Call:
                func = current.func
                name = _last_name(func)
                if name is not None and _HELPER_NAME.search(name):
                    flags |= _RECORD | _EVENT
                if type(func) is cst.Name and func.value in functions:
                    callees.add(func.value)
                elif type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value == "self":
                    callees.add("self." + func.attr.value)
            if flags or callees:
                results[id(current)] = (flags, callees)
            if kind in _BLOCKS or current is root:
                self._fact_cache[id(current)] = (flags, frozenset(callees))

    def _local_names(self, fn: cst.FunctionDef) -> frozenset:
        cached = self._locals.get(id(fn))
        if cached is not None:
            return cached
        names: Set[str] = set()
        declared: Set[str] = set()
        params = fn.params
        for param in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            names.add(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                names.add(star.name.value)
        for node in _statements(fn.body):
            if isinstance(node, (cst.SimpleStatementLine, cst.BaseSmallStatement)):
                for small in node.body if isinstance(node, cst.SimpleStatementLine) else [node]:
                    if isinstance(small, (cst.Global, cst.Nonlocal)):
                        declared |= {n.name.value for n in small.names}
                    elif isinstance(small, cst.Assign):
                        for target in small.targets:
                            names |= _target_names(target.target)
                    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                        names |= _target_names(small.target)
                    elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                        for alias in small.names:
                            if alias.asname is not None:
                                names |= _target_names(alias.asname.name)
                            elif isinstance(alias.name, cst.Name):
                                names.add(alias.name.value)
            elif isinstance(node, cst.For):
                names |= _target_names(node.target)
            elif isinstance(node, cst.With):
                for item in node.items:
                    if item.asname is not None:
                        names |= _target_names(item.asname.name)
            elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                names.add(node.name.value)
        result = frozenset(names - declared)
        self._locals[id(fn)] = result
        return result


# -- helpers ------------------------------------------------------------------
def _methods(cls: cst.ClassDef) -> List[cst.FunctionDef]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else []
    return [s for s in body if isinstance(s, cst.FunctionDef)]


_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _children(node: cst.CSTNode) -> list:
    """Child nodes (formatting skipped), cheaper than ``iter_children``."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = tuple(_child_fields(type(node)))
        _FIELDS[type(node)] = names
    out = []
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            out.extend(v for v in value if _is_node(type(v)))
        elif _is_node(kind):
            out.append(value)
    return out


_NODE_TYPES: Dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


def _statements(block: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Statements in a block, nested blocks included (not nested functions/classes)."""
    stack: List[cst.CSTNode] = [block]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            stack.extend(reversed(node.body))
            continue
        yield node
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)) or not isinstance(node, cst.BaseCompoundStatement):
            continue
        for name in ("body", "orelse", "finalbody"):
            child = getattr(node, name, None)
            if isinstance(child, cst.BaseSuite):
                stack.append(child)
            elif isinstance(child, (cst.Else, cst.Finally, cst.If)):
                stack.append(child.body if not isinstance(child, cst.If) else child)
        for extra in getattr(node, "handlers", ()) or ():
            stack.append(extra.body)
        for case in getattr(node, "cases", ()) or ():
            stack.append(case.body)


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Descendants, not entering nested functions, classes or lambdas."""
    stack = list(iter_children(node))
    stack.reverse()
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        children = list(iter_children(current))
        children.reverse()
        stack.extend(children)


def _calls(node: cst.CSTNode) -> List[cst.Call]:
    """Calls in an expression in evaluation order (arguments before the call)."""
    out: List[cst.Call] = []

    def visit(current: cst.CSTNode, depth: int) -> None:
        if depth > 200 or isinstance(current, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
            return
        for child in iter_children(current):
            visit(child, depth + 1)
        if isinstance(current, cst.Call):
            out.append(current)

    visit(node, 0)
    return out


def _target_names(node: cst.CSTNode) -> Set[str]:
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, (cst.Tuple, cst.List)):
        names: Set[str] = set()
        for element in node.elements:
            names |= _target_names(element.value)
        return names
    if isinstance(node, cst.StarredElement):
        return _target_names(node.value)
    return set()


def _last_name(func: cst.CSTNode) -> Optional[str]:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _is_bn_class(node: cst.CSTNode, imports: ImportTracker) -> bool:
    qualified = imports.resolve(node)
    name = qualified.rsplit(".", 1)[-1] if qualified else _last_name(node)
    return name in BATCHNORM_LIKE


# -- messages -----------------------------------------------------------------
def _what(record: Record) -> str:
    name = display(record.ref.name)
    owner = name[: -len(".layers")] if name.endswith(".layers") else name
    if name.startswith("<bn>"):
        return "a `BatchNormalization(trainable=False)` layer"
    if record.ref.selector == BN:
        return f"the BatchNormalization layers of `{owner}`"
    if record.ref.selector == NONBN:
        return f"the non-BatchNormalization layers of `{owner}`"
    if record.ref.selector == PART:
        return f"some layers of `{owner}`"
    if name.endswith(".layers"):
        return f"the layers of `{owner}`"
    return f"`{name}`"


def _ignored_message(record: Record, model: str, method: str, flavour: str) -> Tuple[str, str]:
    """The message and the explanation of a KM501 finding."""
    what, target = _what(record), display(model)
    value = record.value
    effect = "keep being updated" if value is False else "stay frozen"
    if flavour == "2":
        return (
            f"`trainable = {value}` on {what} after `{target}.compile()` is ignored by "
            f"`{target}.{method}`; recompile"
        ), (
            f"`trainable = {value}` on {what} after `{target}.compile()` is ignored by "
            f"`{target}.{method}(...)`: Keras 2 restores the trainable flags recorded by "
            f"compile() at every training call, so the weights of {what} {effect}. Call "
            f"`{target}.compile(...)` again after changing `trainable`."
        )
    torch = (
        "the PyTorch backend applies it" if value is False
        else "the PyTorch backend raises `ValueError: Unknown variable`"
    )
    return (
        f"`trainable = {value}` on {what} after `{target}` trained is ignored by its next "
        f"`{method}` on TensorFlow (JAX raises); recompile"
    ), (
        f"`trainable = {value}` on {what} after `{target}` was already trained is not "
        f"picked up by the next `{target}.{method}(...)`: Keras 3 fixes the trainable "
        f"weights at the first training call after compile(), so with the TensorFlow "
        f"backend the weights of {what} {effect}; the JAX backend raises ValueError "
        f"(optimizer variables no longer match) and {torch}. Call "
        f"`{target}.compile(...)` again after changing `trainable`."
    )


def _recipe_message(record: Record, model: str, method: str, other: Event) -> Tuple[str, str]:
    """The message and the explanation of a KM502 finding."""
    what, target, other_model = _what(record), display(model), display(other.model)
    value = record.value
    call = f"`{target}.{method}(...)`"
    if value is False:
        effect = f"{call} never updates the weights of {what} (silently)"
    else:
        effect = f"{call} also updates the weights of {what}"
    if other.kind == "compile":
        purpose = (
            f"is set so that `{other_model}` is compiled with it (the Keras 2 GAN recipe: "
            f"each model keeps the flags of its own compile())"
        )
        back = f" and back to {value} before `{other_model}` trains"
    else:
        purpose = f"is set for `{other_model}`'s training step"
        back = ""
    if record.ref.selector == ALL and not record.ref.name.endswith(".layers"):
        setting = f"`{display(record.ref.name)}.trainable = {not value}`"
    else:
        setting = f"`trainable = {not value}` on {what}"
    if value is False:
        brief = f"{what} is still frozen at `{target}.{method}`, so Keras 3 skips it; unfreeze it first"
    else:
        brief = f"{what} is still trainable at `{target}.{method}`, so Keras 3 trains it too; freeze it first"
    return brief, (
        f"`trainable = {value}` on {what} {purpose}, but it is still in force at {call}, "
        f"the first training call of `{target}`. Keras 3 takes the trainable weights from "
        f"that call, not from `{target}.compile()` as Keras 2 did, so {effect}. Set "
        f"{setting} right before {call}{back}, or write a custom `train_step`."
    )


def _bn_message(undo: Record, frozen: Record) -> Tuple[str, str]:
    """The message and the explanation of a KM503 finding."""
    container = display(undo.ref.name)
    effect = (
        "in fit they normalise with batch statistics, update their moving statistics "
        "and train gamma/beta"
    )
    if undo.ref.name.endswith(".layers"):
        owner = container[: -len(".layers")]
        return (
            f"Unfreezing every layer of `{owner}` also unfreezes {_what(frozen)}, frozen before; skip them"
        ), (
            f"`layer.trainable = True` for every layer of `{owner}` also reaches "
            f"{_what(frozen)}, frozen before it, and makes them trainable again: {effect}. "
            f"Skip them (`if not isinstance(layer, BatchNormalization)`) or freeze them "
            f"after this loop."
        )
    return (
        f"`{container}.trainable = True` unfreezes {_what(frozen)} frozen earlier; refreeze them"
    ), (
        f"`{container}.trainable = True` sets `trainable` recursively, so it makes "
        f"{_what(frozen)}, frozen before it, trainable again: {effect}. To keep them "
        f"frozen, set `{container}.trainable = True` first, then freeze the "
        f"BatchNormalization layers."
    )


def flow_of(context) -> TrainableFlow:
    """One analysis per file, shared by KM501–KM503 (cached on the context)."""
    cached = context.__dict__.get("_trainable_flow")
    if cached is None:
        cached = TrainableFlow(context.module, context.imports, context.keras_version).run()
        context.__dict__["_trainable_flow"] = cached
    return cached
