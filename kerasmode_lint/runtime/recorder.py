"""What a traced run records: per layer and phase, the ``training`` value each
mode-dependent layer received, whether its noise really changed its input,
whether its moving statistics and weights changed.

Memory is bounded: counts are aggregates (a fixed-size counter table), never a
log of calls, and phases are merged by kind and call site (a ``train_on_batch``
called 1,000 times from one line is one phase with 1,000 invocations).

How counts survive ``tf.function`` and XLA: the Python side of a layer call
runs only while a graph is traced, so a traced call adds one ``scatter_add``
to a non-trainable counter variable that no model tracks; the graph then
counts every execution. The op only reads the layer's input and output, so
the program computes what it computed before (the tests compare weights of a
seeded fit with and without tracing bit for bit). Eager calls count in
Python. Effects that need no graph op (moving statistics, weights) are read
at phase boundaries as fingerprints.
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

# Counter table: contexts x layers x slots. A context is where an outermost
# model call came from (kind, user source line, the outermost layer); slots are
# training=True, training=False, training=None, "noise changed the input".
MAX_LAYERS = 256
MAX_CONTEXTS = 32
MAX_INFOS = 4096  # layers of any kind whose weights are watched
SLOTS = 4
TRUE, FALSE, NONE, CHANGED = range(SLOTS)
# A phase run many times from one line (train_on_batch in a loop) is measured
# (weights and statistics read before and after) for its first invocations only.
MEASURED_INVOCATIONS = 3

# Layer kinds whose behaviour depends on `training`.
DROPOUT, NOISE, BATCHNORM, AUGMENT, USER = "dropout", "noise", "batchnorm", "augmentation", "user"
NOISY_KINDS = (DROPOUT, NOISE, AUGMENT)

_DROPOUT_CLASSES = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout"}
_NOISE_CLASSES = {"GaussianNoise", "GaussianDropout"}
_OWN_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _library_dirs() -> Tuple[str, ...]:
    """Folders whose frames are not the user's: Keras, TensorFlow, JAX, this package."""
    dirs = [_OWN_PACKAGE]
    for name in ("keras", "tf_keras", "tensorflow", "jax", "jaxlib", "absl", "numpy", "runpy", "_pytest", "pluggy"):
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            dirs.append(os.path.dirname(os.path.abspath(path)))
    dirs.append(os.path.dirname(os.__file__))  # the standard library (runpy, threading, contextlib)
    return tuple(d + os.sep for d in dirs)


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def user_site(skip: int = 2) -> Optional[Site]:
    """The innermost frame that belongs to the user's code."""
    libs = _library_dirs()
    frame = sys._getframe(skip)
    while frame is not None:
        filename = frame.f_code.co_filename
        if "__autograph_generated_file" in filename:
            # The converted tf.function: its user line, unless AutoGraph
            # converted Keras's own code (tf_keras's train_function).
            site = _autograph_origin(frame)
            if site is not None and not os.path.abspath(site.path).startswith(libs):
                return site
        elif not filename.startswith("<") and not os.path.abspath(filename).startswith(libs):
            return Site(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


def is_user_frame(frame) -> bool:
    filename = frame.f_code.co_filename
    if "__autograph_generated_file" in filename:
        site = _autograph_origin(frame)
        filename = site.path if site is not None else filename
    return not filename.startswith("<") and not os.path.abspath(filename).startswith(_library_dirs())


_AUTOGRAPH_MAPS: Dict[Any, Dict[int, Any]] = {}


def _autograph_origin(frame) -> Optional[Site]:
    """The user's line behind a line of code that AutoGraph generated from a
    ``tf.function``: the caller (AutoGraph's ``converted_call``) holds the
    converted function, whose ``ag_source_map`` maps it back."""
    code = frame.f_code
    lines = _AUTOGRAPH_MAPS.get(code)
    if lines is None:
        caller = frame.f_back
        converted = caller.f_locals.get("converted_f") if caller is not None else None
        source_map = getattr(converted, "ag_source_map", None) or {}
        lines = {loc.lineno: origin for loc, origin in source_map.items() if loc.filename == code.co_filename}
        if len(_AUTOGRAPH_MAPS) < 1000:
            _AUTOGRAPH_MAPS[code] = lines
    origin = lines.get(frame.f_lineno)
    if origin is None:
        return None
    return Site(origin.loc.filename, origin.loc.lineno, origin.function_name or code.co_name)


@dataclass
class LayerInfo:
    slot: Optional[int]  # counter slot (mode-dependent layers only)
    index: int
    layer: Any  # kept alive so that its id stays its own (at most MAX_LAYERS of them)
    kind: Optional[str]  # None: not mode-dependent (a container, Dense, ...)
    class_name: str
    path: str
    call_default: Any  # default of `training` in the layer's call signature
    class_site: Optional[Site] = None  # where a user layer's `call` is defined


@dataclass
class Context:
    index: int
    kind: str  # "phase" (inside fit/evaluate/...), "tape" (a GradientTape records) or "call"
    site: Optional[Site]
    root: Any  # the outermost layer called
    explicit: bool = False  # that call was given a `training` value


@dataclass
class LayerPhase:
    counts: List[int] = field(default_factory=lambda: [0, 0, 0])  # True, False, None
    changed: int = 0  # calls where the layer's noise changed its input
    stats_moved: Optional[bool] = None
    weights_changed: Optional[bool] = None
    frozen: Set[bool] = field(default_factory=set)  # effective `trainable` at the phase's start, negated
    frozen_root: Optional[int] = None  # index of the outermost frozen layer holding it (the "base")
    contexts: Set[int] = field(default_factory=set)  # where its calls came from

    @property
    def calls(self) -> int:
        return sum(self.counts)


@dataclass
class Phase:
    """One kind of phase at one call site, merged over its invocations."""
    kind: str  # fit, evaluate, predict, train_on_batch, ..., custom-step, tape, call
    site: Optional[Site]
    model: Any = None
    invocations: int = 0
    steps: int = 0  # optimizer steps of a custom loop
    layers: Dict[int, LayerPhase] = field(default_factory=dict)
    measurements: List[dict] = field(default_factory=list)  # the first invocations' flags and changes
    nested_in: Optional[str] = None

    def layer(self, slot: int) -> LayerPhase:
        record = self.layers.get(slot)
        if record is None:
            record = self.layers[slot] = LayerPhase()
        return record


@dataclass
class ModelInfo:
    model: Any
    compiled_flags: Optional[Dict[int, bool]] = None  # layer index -> effective trainable at compile
    phase_history: List[Tuple[str, Dict[int, bool]]] = field(default_factory=list)  # since compile
    compile_seq: int = -1  # the trainable assignments made before its last compile
    train_seq: int = -1  # ... before its last training call
    members: Set[int] = field(default_factory=set)


class _Local(threading.local):
    def __init__(self) -> None:
        self.stack: List[list] = []  # frames: [layer, resolved training, context]
        self.busy = 0  # >0 while the recorder itself calls into Keras
        self.exporting = 0  # >0 while Keras exports a model (no counting op in what it traces)


class Recorder:
    """The state of one traced run (the module-level ``RECORDER``)."""

    def __init__(self) -> None:
        self.active = False
        self.flavours: List[str] = []
        self.local = _Local()
        self.lock = threading.RLock()
        self.layers: Dict[int, LayerInfo] = {}
        self.by_slot: List[LayerInfo] = []
        self.all_infos: List[LayerInfo] = []
        self.dropped_layers = 0  # layers beyond MAX_LAYERS
        self.contexts: Dict[Tuple[str, Optional[Site], int, bool], Context] = {}
        self.by_context: List[Context] = []
        import numpy as np

        self.np = np
        self.eager = np.zeros(MAX_CONTEXTS * MAX_LAYERS * SLOTS, dtype=np.int64)
        self.graph_counter = None  # a tf.Variable, created on the first traced call
        self.phases: Dict[Tuple[str, Optional[Site], Optional[str]], Phase] = {}
        self.phase_order: List[Phase] = []
        self.stack: List[dict] = []  # open Keras phases
        self.segment_start = self.eager.copy()  # counter values when the current segment began
        self.window: Optional[dict] = None  # the stretch of run outside Keras phases
        self.optimizers: Dict[int, Any] = {}
        self.optimizer_vars: Dict[int, Set[int]] = {}
        self.optimizer_calls: Dict[int, int] = {}
        self.models: Dict[int, ModelInfo] = {}
        self.node_training: Dict[int, Tuple[Any, Optional[Site]]] = {}  # layer -> training= on its node
        self.node_sites: Dict[int, Site] = {}  # layer -> where it was placed in a functional graph
        self.trainable_sets: Dict[int, Tuple[int, Optional[Site], bool]] = {}
        self.trainable_seq = 0
        self.errors: List[str] = []
        self.first_seen: Dict[int, dict] = {}  # slot -> snapshot taken when first called

    def reset(self) -> None:
        """Forget the phases recorded so far (a new report starts here).
        The layer slots, contexts and counter stay: traced graphs keep
        counting into them."""
        self.boundary()
        self.phases, self.phase_order, self.stack, self.window = {}, [], [], None
        self.models, self.errors = {}, []
        self.segment_start = self.counts()

    # -- layers and contexts ------------------------------------------------
    def info(self, layer, flavour, path: Optional[str] = None) -> Optional[LayerInfo]:
        """The layer's record, made on first sight. Only mode-dependent
        layers get a counter slot (MAX_LAYERS of them); others are recorded
        for their weights (bounded by MAX_INFOS)."""
        info = self.layers.get(id(layer))
        if info is not None and info.layer is layer:
            return info
        with self.lock:
            if len(self.all_infos) >= MAX_INFOS:
                self.dropped_layers += 1
                return None
            kind = flavour.kind(layer)
            slot = None
            if kind is not None:
                if len(self.by_slot) >= MAX_LAYERS:
                    self.dropped_layers += 1
                    kind = None
                else:
                    slot = len(self.by_slot)
            if path is None:
                path = "/".join([frame[0].name for frame in self.local.stack] + [layer.name])
            user_class = not (type(layer).__module__ or "").startswith(flavour.keras_prefixes)
            info = LayerInfo(slot, len(self.all_infos), layer, kind, type(layer).__name__, path,
                             flavour.call_default(layer), flavour.class_site(layer) if user_class else None)
            if slot is not None:
                self.by_slot.append(info)
            self.all_infos.append(info)
            self.layers[id(layer)] = info
            return info

    def context(self, kind: str, site: Optional[Site], root, explicit: bool = False) -> Context:
        key = (kind, site, id(root), explicit)
        ctx = self.contexts.get(key)
        if ctx is None:
            with self.lock:
                if len(self.by_context) >= MAX_CONTEXTS - 1:
                    key = ("other", None, 0, False)
                    ctx = self.contexts.get(key)
                    if ctx is not None:
                        return ctx
                ctx = Context(len(self.by_context), kind, site, root, explicit)
                self.by_context.append(ctx)
                self.contexts[key] = ctx
        return ctx

    def base(self, ctx: Context, info: LayerInfo) -> int:
        return (ctx.index * MAX_LAYERS + info.slot) * SLOTS

    def applied(self) -> Set[int]:
        """Ids of every variable an optimizer stepped."""
        out: Set[int] = set()
        for ids in self.optimizer_vars.values():
            out |= ids
        return out

    def model_info(self, model) -> ModelInfo:
        record = self.models.get(id(model))
        if record is None or record.model is not model:
            record = self.models[id(model)] = ModelInfo(model)
        return record

    # -- counter table ------------------------------------------------------
    def counts(self):
        values = self.eager.copy()
        if self.graph_counter is not None:
            values += self.graph_counter.numpy()
        return values

    # -- phases -------------------------------------------------------------
    def phase(self, kind: str, site: Optional[Site], model=None, nested_in: Optional[str] = None) -> Phase:
        key = (kind, site, nested_in)
        record = self.phases.get(key)
        if record is None:
            record = self.phases[key] = Phase(kind, site, model, nested_in=nested_in)
            self.phase_order.append(record)
        return record

    def boundary(self, flavour=None) -> None:
        """Give the counts since the last boundary to what was running."""
        now = self.counts()
        delta = now - self.segment_start
        self.segment_start = now
        if not delta.any():
            return
        if self.stack:
            self._add_counts(self.stack[-1]["phase"], delta, None)
        elif self.window is not None:
            self.window["delta"] = self.window.get("delta", 0) + delta

    def _add_counts(self, phase: Phase, delta, contexts: Optional[Set[int]]) -> None:
        np = self.np
        table = delta.reshape(MAX_CONTEXTS, MAX_LAYERS, SLOTS)
        rows = np.nonzero(table.any(axis=2))
        for c, s in zip(*rows):
            if contexts is not None and int(c) not in contexts:
                continue
            info = self.by_slot[int(s)]
            record = phase.layer(info.slot)
            for i in (TRUE, FALSE, NONE):
                record.counts[i] += int(table[c, s, i])
            record.changed += int(table[c, s, CHANGED])
            record.contexts.add(int(c))

    def open_window(self, flavour) -> None:
        self.window = {"snapshot": self.snapshot_known(flavour), "iterations": self.iterations(),
                       "flavour": flavour}

    def close_window(self) -> None:
        """Split the run outside Keras phases into custom training steps,
        gradient tapes without an optimizer step, and plain model calls."""
        window, self.window = self.window, None
        if window is None or not isinstance(window.get("delta"), self.np.ndarray):
            return
        flavour = window["flavour"]
        delta = window["delta"]
        after = self.snapshot_known(flavour)
        iterations = self.iterations()
        stepped = {key for key, value in iterations.items() if value != window["iterations"].get(key, value)
                   or key not in window["iterations"] and value}
        trained_vars: Set[int] = set()
        for key in stepped:
            trained_vars |= self.optimizer_vars.get(key, set())
        steps = sum(iterations[k] - window["iterations"].get(k, 0) for k in stepped)
        table = delta.reshape(MAX_CONTEXTS, MAX_LAYERS, SLOTS)
        for ctx in self.by_context:
            if ctx.kind == "phase" or not table[ctx.index].any():
                continue
            kind = "call"
            if ctx.kind == "tape":
                trained = bool(trained_vars & {id(v) for v in flavour.all_variables(ctx.root)})
                kind = "custom-step" if trained else "tape"
            phase = self.phase(kind, ctx.site, ctx.root)
            phase.invocations += 1
            if kind == "custom-step":
                phase.steps += steps
            self._add_counts(phase, delta, {ctx.index})
            for s in self.np.nonzero(table[ctx.index].any(axis=1))[0]:
                info = self.by_slot[int(s)]
                before = window["snapshot"].get(info.slot) or self.first_seen.get(info.slot)
                self._compare(phase.layer(info.slot), before, after.get(info.slot))

    def _compare(self, record: LayerPhase, before, after) -> None:
        if not before or not after:
            return
        if before.get("stats") is not None and after.get("stats") is not None:
            record.stats_moved = bool(record.stats_moved) or before["stats"] != after["stats"]
        if before.get("weights") is not None and after.get("weights") is not None:
            record.weights_changed = bool(record.weights_changed) or before["weights"] != after["weights"]

    # -- snapshots ----------------------------------------------------------
    def fingerprint(self, variables) -> Optional[bytes]:
        if not variables:
            return None
        digest = hashlib.blake2b(digest_size=16)
        for variable in variables:
            digest.update(self.np.ascontiguousarray(self.np.asarray(_value(variable))).tobytes())
        return digest.digest()

    def snapshot_layer(self, info: LayerInfo, flavour) -> dict:
        layer = info.layer
        return {
            "stats": self.fingerprint(flavour.moving_stats(layer)) if info.kind == BATCHNORM else None,
            "weights": self.fingerprint(flavour.own_trainable(layer)),
        }

    def snapshot_known(self, flavour) -> Dict[int, dict]:
        return {info.slot: self.snapshot_layer(info, flavour) for info in self.by_slot if info.kind}

    def iterations(self) -> Dict[int, int]:
        out = {}
        for key, optimizer in self.optimizers.items():
            try:
                out[key] = int(self.np.asarray(_value(optimizer.iterations)))
            except Exception:  # a wrapped optimizer without iterations: not counted
                continue
        return out


def unwrapped(variable):
    """The backend variable inside a Keras 3 variable (``.value``); a
    tf.Variable itself (where ``value`` is a method)."""
    value = getattr(variable, "value", None)
    return variable if value is None or callable(value) else value


def _value(variable):
    numpy = getattr(variable, "numpy", None)
    if numpy is not None:
        try:
            return numpy()
        except Exception:
            pass
    return variable


RECORDER = Recorder()


TRAINING_KINDS = ("fit", "train_on_batch")
PHASE_KINDS = ("fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch")


def _tree(recorder: Recorder, model, flavour) -> List[Tuple[LayerInfo, bool, Optional[int]]]:
    """The model's layers with their effective ``trainable`` (a layer is
    trained only if it and every layer holding it are trainable) and the
    outermost frozen layer holding them (a frozen base)."""
    out: List[Tuple[LayerInfo, bool, Optional[int]]] = []
    seen: Set[int] = set()
    pending = [(model, model.name, True, None)]
    while pending:
        layer, path, parent, root = pending.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        effective = parent and bool(layer.trainable)
        info = recorder.info(layer, flavour, path)
        if info is not None:
            if not effective and root is None and layer is not model:
                root = info.index
            out.append((info, effective, root))
        for child in reversed(flavour.children(layer)):
            pending.append((child, f"{path}/{child.name}", effective, root))
    return out


def enter_phase(recorder: Recorder, model, kind: str, flavour, site: Optional[Site]) -> dict:
    recorder.boundary()
    if not recorder.stack:
        recorder.close_window()
    nested_in = recorder.stack[-1]["phase"].kind if recorder.stack else None
    phase = recorder.phase(kind, site, model, nested_in)
    phase.invocations += 1
    entry = {"phase": phase, "model": model, "flavour": flavour,
             "measure": phase.invocations <= MEASURED_INVOCATIONS}
    if entry["measure"]:
        tree = entry["tree"] = _tree(recorder, model, flavour)
        entry["before"] = {info.index: recorder.snapshot_layer(info, flavour) for info, _, _ in tree}
        flags = {info.index: effective for info, effective, _ in tree if flavour.own_trainable(info.layer)}
        entry["measurement"] = {"flags": flags, "changed": {}}
        if kind in TRAINING_KINDS:
            model_info = recorder.model_info(model)
            entry["measurement"]["compile_flags"] = model_info.compiled_flags
            entry["measurement"]["previous_flags"] = (model_info.phase_history[-1][1]
                                                      if model_info.phase_history else None)
            model_info.phase_history.append((kind, flags))
            model_info.train_seq = recorder.trainable_seq
            del model_info.phase_history[:-2]  # bounded: only the previous one is read
    recorder.stack.append(entry)
    return entry


def exit_phase(recorder: Recorder, entry: dict) -> None:
    recorder.boundary()
    if entry in recorder.stack:
        recorder.stack.remove(entry)
    phase: Phase = entry["phase"]
    flavour = entry["flavour"]
    if entry["measure"]:
        measurement = entry["measurement"]
        for info, effective, root in entry["tree"]:
            before = entry["before"].get(info.index)
            after = recorder.snapshot_layer(info, flavour)
            if info.slot is not None:
                record = phase.layer(info.slot)
                recorder._compare(record, before, after)
                record.frozen.add(not effective)
                if root is not None:
                    record.frozen_root = root
            if before and before["weights"] is not None:
                measurement["changed"][info.index] = before["weights"] != after["weights"]
        phase.measurements.append(measurement)
    if not recorder.stack:
        recorder.open_window(flavour)


def compiled(recorder: Recorder, model, flavour) -> None:
    model_info = recorder.model_info(model)
    tree = _tree(recorder, model, flavour)
    model_info.compiled_flags = {info.index: effective for info, effective, _ in tree
                                 if flavour.own_trainable(info.layer)}
    model_info.compile_seq = recorder.trainable_seq
    model_info.members = {info.index for info, _, _ in tree}
    model_info.phase_history = []
