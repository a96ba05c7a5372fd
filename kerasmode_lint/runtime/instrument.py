"""Wrapping Keras (never the user's code) so that a run records its modes.

Two flavours: Keras 3 (``keras``; TensorFlow and JAX backends) and tf_keras
(Keras 2, ``TF_USE_LEGACY_KERAS=1``). Each wraps, on Keras's own classes:

- ``Layer.__call__``: the layer path, where the outermost call came from, and,
  after the call, the resolved ``training`` value and whether a noise layer's
  output differs from its input;
- the call-context resolution (``_resolve_and_populate_arg`` in Keras 3,
  ``_get_propagated_call_context_arguments`` in tf_keras), which says which
  ``training`` value the layer's ``call`` really receives;
- ``fit``/``evaluate``/``predict``/``*_on_batch`` (phases), ``compile``, the
  ``trainable`` setter and the optimizers' apply.

Every wrapper calls the original with the same arguments and returns its
result; what the recorder does is guarded so that a failure there is noted
and never reaches the program.
"""
from __future__ import annotations

import ast
import functools
import inspect
import sys
from typing import Any, List, Optional

from . import recorder as rec
from .recorder import RECORDER, Site, user_site

_UNSET = object()
_PHASE_METHODS = rec.PHASE_KINDS


def _note(exc: BaseException) -> None:
    """Something the tracer could not do (the program is not affected): said in the report."""
    line = f"the tracer skipped a step: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if len(RECORDER.errors) < 20 and line not in RECORDER.errors:
        RECORDER.errors.append(line[:300])


class Flavour:
    name = ""
    keras_prefixes: tuple = ()

    # -- what a layer is -------------------------------------------------
    def class_names(self, layer) -> set:
        return {cls.__name__ for cls in type(layer).__mro__}

    def kind(self, layer) -> Optional[str]:
        names = self.class_names(layer)
        if names & rec._DROPOUT_CLASSES:
            return rec.DROPOUT
        if names & rec._NOISE_CLASSES:
            return rec.NOISE
        if "BatchNormalization" in names or "BatchNormalizationBase" in names:
            return rec.BATCHNORM
        if names & {"BaseImagePreprocessingLayer", "BaseImageAugmentationLayer"}:
            return rec.AUGMENT
        module = type(layer).__module__ or ""
        if self.takes_training(layer) and not module.startswith(self.keras_prefixes):
            return rec.USER
        return None

    def call_default(self, layer) -> Any:
        try:
            parameter = inspect.signature(type(layer).call).parameters.get("training")
        except (TypeError, ValueError):
            return None
        if parameter is None or parameter.default is inspect.Parameter.empty:
            return None
        return parameter.default

    def class_site(self, layer) -> Optional[Site]:
        call = getattr(type(layer), "call", None)
        code = getattr(inspect.unwrap(call), "__code__", None) if call is not None else None
        if code is None:
            return None
        return Site(code.co_filename, code.co_firstlineno, "call")

    def children(self, layer) -> List[Any]:
        try:
            return list(layer._flatten_layers(include_self=False, recursive=False))
        except Exception:
            return []

    def moving_stats(self, layer) -> List[Any]:
        stats = (getattr(layer, "moving_mean", None), getattr(layer, "moving_variance", None))
        return [v for v in stats if v is not None]

    def all_variables(self, layer) -> List[Any]:
        try:
            return list(layer.weights)
        except Exception:
            return []

    # -- per call --------------------------------------------------------
    def takes_training(self, layer) -> bool:
        raise NotImplementedError

    def is_symbolic(self, args, kwargs) -> bool:
        raise NotImplementedError

    def tape_active(self) -> bool:
        return False

    def count(self, base: int, training, x, out) -> None:
        raise NotImplementedError


# -- TensorFlow counting (Keras 3 on TensorFlow, tf_keras) ---------------------
def _tf_changed(tf, x, out):
    """A scalar bool tensor: the layer's output differs from its input."""
    if x is None or not tf.is_tensor(out):
        return None
    try:
        x = tf.convert_to_tensor(x)
        if x.shape.rank != out.shape.rank or x.shape.as_list() != out.shape.as_list():
            return None
        return tf.reduce_any(tf.not_equal(tf.cast(x, out.dtype), out))
    except Exception:
        return None


def _tf_count(base: int, training, x, out) -> None:
    import tensorflow as tf

    changed = _tf_changed(tf, x, out)
    static = _static_index(training)
    if tf.executing_eagerly():
        index = static if static is not None else (rec.TRUE if bool(training) else rec.FALSE)
        RECORDER.eager[base + index] += 1
        if changed is not None:
            RECORDER.eager[base + rec.CHANGED] += int(bool(changed))
        return
    if not _graph_may_count(tf):
        return
    counter = _tf_counter(tf)
    if static is not None:
        index = tf.constant(base + static, tf.int64)
    else:
        index = tf.where(tf.cast(training, tf.bool), tf.constant(base + rec.TRUE, tf.int64),
                         tf.constant(base + rec.FALSE, tf.int64))
    indices = [index]
    values = [tf.constant(1, tf.int64)]
    if changed is not None:
        indices.append(tf.constant(base + rec.CHANGED, tf.int64))
        values.append(tf.cast(changed, tf.int64))
    counter.scatter_add(tf.IndexedSlices(tf.stack(values), tf.stack(indices)))


def _graph_may_count(tf) -> bool:
    """A graph the tracer must leave alone: one traced to be saved (a
    SavedModel must not reference a variable no object tracks) or a tf.data
    function (a stateful op would change how the dataset can be saved)."""
    if RECORDER.local.exporting:
        return False
    try:
        from tensorflow.python.saved_model import save_context

        if save_context.in_save_context():
            return False
    except ImportError:
        pass
    name = getattr(tf.compat.v1.get_default_graph(), "name", "") or ""
    return "Dataset" not in name


def _tf_counter(tf):
    if RECORDER.graph_counter is None:
        # Lifted out of the graph being traced, as Keras creates its own
        # variables; a plain tf.Variable that no model or checkpoint tracks.
        with tf.init_scope():
            RECORDER.graph_counter = tf.Variable(
                tf.zeros([rec.MAX_CONTEXTS * rec.MAX_LAYERS * rec.SLOTS], tf.int64),
                trainable=False, name="kerasmode_lint_trace_counts")
    return RECORDER.graph_counter


def _static_index(training) -> Optional[int]:
    if training is None:
        return rec.NONE
    if training is True:
        return rec.TRUE
    if training is False:
        return rec.FALSE
    if type(training).__name__ in ("bool_", "int", "int64", "int32") and not hasattr(training, "graph"):
        try:
            return rec.TRUE if bool(training) else rec.FALSE
        except Exception:
            return None
    return None


def _tf_tape_active() -> bool:
    try:
        from tensorflow.python.eager import record

        return bool(record.could_possibly_record())
    except Exception:
        return False


class _OutsideGraph:
    """Read variables eagerly even while a tf.function is being traced."""

    def __enter__(self):
        try:
            import tensorflow as tf
        except ImportError:
            self.scope = None
            return self
        self.scope = tf.init_scope()
        self.scope.__enter__()
        return self

    def __exit__(self, *exc):
        if self.scope is not None:
            self.scope.__exit__(*exc)
        return False


class Keras3(Flavour):
    name = "keras3"
    keras_prefixes = ("keras.", "keras_hub.", "keras_nlp.", "keras_cv.")

    def __init__(self) -> None:
        from keras.src import backend as backend_module
        from keras.src.layers.layer import Layer

        self.Layer = Layer
        self.backend = backend_module.backend()
        self.any_symbolic = backend_module.any_symbolic_tensors
        from keras.src.backend.common.symbolic_scope import in_symbolic_scope

        self.in_symbolic_scope = in_symbolic_scope
        self.name = f"keras {__import__('keras').__version__} ({self.backend})"

    def takes_training(self, layer) -> bool:
        return bool(getattr(layer, "_call_has_training_arg", False))

    def is_symbolic(self, args, kwargs) -> bool:
        # A symbolic scope: Keras runs `call` on placeholders to infer output
        # shapes (build, compute_output_spec); that graph never runs.
        if self.in_symbolic_scope():
            return True
        return self.any_symbolic(args[:1]) if args else self.any_symbolic((), kwargs)

    def own_trainable(self, layer) -> List[Any]:
        # The variables created trainable (gamma, kernel), whatever the flag says now.
        return list(getattr(layer, "_trainable_variables", ()) or ())

    def tape_active(self) -> bool:
        return self.backend == "tensorflow" and _tf_tape_active()

    def count(self, base, training, x, out) -> None:
        if self.backend == "tensorflow":
            _tf_count(base, training, x, out)
        elif self.backend == "jax":
            _jax_count(base, training, x, out)
        else:
            _numpy_count(base, training, x, out)

    def patch(self) -> None:
        from keras.src.models.model import Model
        from keras.src.optimizers.base_optimizer import BaseOptimizer

        Layer = self.Layer
        _patch(Layer, "__call__", _make_call(Layer.__call__, self))
        if hasattr(Layer, "_resolve_and_populate_arg"):
            _patch(Layer, "_resolve_and_populate_arg", _keras3_resolve(Layer._resolve_and_populate_arg))
        _patch_trainable(Layer, self)
        for method in _PHASE_METHODS:
            _patch(Model, method, _make_phase(getattr(Model, method), method, self))
        _patch(Model, "compile", _make_compile(Model.compile, self))
        from keras.src.models.sequential import Sequential

        _patch(Sequential, "add", _make_sequential_add(Sequential.add))
        _patch(BaseOptimizer, "apply", _make_apply(BaseOptimizer.apply, 2))
        try:
            from keras.src.export.saved_model import ExportArchive
        except ImportError:  # a Keras without export
            ExportArchive = None
        if hasattr(Model, "export"):
            _patch(Model, "export", _make_exporting(Model.export))
        for method in ("add_endpoint", "track_and_add_endpoint", "write_out"):
            if ExportArchive is not None and hasattr(ExportArchive, method):
                _patch(ExportArchive, method, _make_exporting(getattr(ExportArchive, method)))


def _keras3_resolve(original):
    @functools.wraps(original)
    def _resolve_and_populate_arg(self, arg_name, call_spec, call_context, kwargs, *rest, **more):
        result = original(self, arg_name, call_spec, call_context, kwargs, *rest, **more)
        if arg_name == "training":
            stack = RECORDER.local.stack
            if stack and stack[-1][0] is self:
                stack[-1][1] = kwargs["training"] if "training" in kwargs else call_context.get_value("training")
        return result

    return _resolve_and_populate_arg


def _numpy_count(base, training, x, out) -> None:
    import numpy as np

    index = _static_index(training)
    RECORDER.eager[base + (index if index is not None else (rec.TRUE if bool(training) else rec.FALSE))] += 1
    try:
        if x is not None and np.shape(x) == np.shape(out):
            RECORDER.eager[base + rec.CHANGED] += int(bool(np.any(np.asarray(x) != np.asarray(out))))
    except Exception:
        pass


def _jax_count(base, training, x, out) -> None:
    import jax
    import jax.numpy as jnp

    if not isinstance(out, jax.Array) or isinstance(training, jax.core.Tracer):
        return
    static = _static_index(training)
    changed = None
    try:
        if x is not None and jnp.shape(x) == jnp.shape(out):
            changed = jnp.any(jnp.asarray(x, out.dtype) != out)
    except Exception:
        changed = None

    def add(flag=None):
        RECORDER.eager[base + static] += 1
        if flag is not None:
            RECORDER.eager[base + rec.CHANGED] += int(bool(flag))

    if isinstance(out, jax.core.Tracer):
        # An effect that jit keeps and that computes nothing the program sees.
        if changed is None:
            jax.debug.callback(add)
        else:
            jax.debug.callback(add, changed)
    else:
        add(changed)


class TfKeras(Flavour):
    name = "tf_keras"
    keras_prefixes = ("tf_keras.", "keras.src.legacy", "tensorflow.")

    def __init__(self) -> None:
        import tf_keras
        from tf_keras.src.engine import base_layer, base_layer_utils, keras_tensor

        self.Layer = base_layer.Layer
        self.call_context = base_layer_utils.call_context
        self.KerasTensor = keras_tensor.KerasTensor
        self.name = f"tf_keras {tf_keras.__version__}"

    def takes_training(self, layer) -> bool:
        return bool(getattr(layer, "_expects_training_arg", False))

    def is_symbolic(self, args, kwargs) -> bool:
        first = args[0] if args else kwargs.get("inputs")
        if isinstance(first, (list, tuple)) and first:
            first = first[0]
        elif isinstance(first, dict) and first:
            first = next(iter(first.values()))
        if isinstance(first, self.KerasTensor):
            return True
        # Functional construction calls the inner layers on tensors of the
        # "keras_graph", which never runs.
        return self.call_context().in_keras_graph

    def own_trainable(self, layer) -> List[Any]:
        return list(getattr(layer, "_trainable_weights", ()) or ())

    def tape_active(self) -> bool:
        return _tf_tape_active()

    def count(self, base, training, x, out) -> None:
        _tf_count(base, training, x, out)

    def patch(self) -> None:
        from tf_keras.src.engine import training
        from tf_keras.src.optimizers import optimizer as new_optimizer
        from tf_keras.src.optimizers.legacy import optimizer_v2

        Layer = self.Layer
        _patch(Layer, "__call__", _make_call(Layer.__call__, self))
        _patch(Layer, "_get_propagated_call_context_arguments",
               _tfk_resolve(Layer._get_propagated_call_context_arguments))
        _patch_trainable(Layer, self)
        Model = training.Model
        for method in _PHASE_METHODS:
            _patch(Model, method, _make_phase(getattr(Model, method), method, self))
        _patch(Model, "compile", _make_compile(Model.compile, self))
        from tf_keras.src.engine.sequential import Sequential

        _patch(Sequential, "add", _make_sequential_add(Sequential.add))
        for cls in (new_optimizer._BaseOptimizer, optimizer_v2.OptimizerV2):
            if "apply_gradients" in cls.__dict__:
                _patch(cls, "apply_gradients", _make_apply(cls.apply_gradients, 1))


def _tfk_resolve(original):
    @functools.wraps(original)
    def _get_propagated_call_context_arguments(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        stack = RECORDER.local.stack
        if stack and stack[-1][0] is self:
            stack[-1][1] = result[2].get("training")
        return result

    return _get_propagated_call_context_arguments


# -- the wrappers --------------------------------------------------------------
_ORIGINALS: List[tuple] = []


def _patch(cls, name: str, wrapper) -> None:
    _ORIGINALS.append((cls, name, cls.__dict__.get(name, _UNSET)))
    setattr(cls, name, wrapper)


def unpatch() -> None:
    while _ORIGINALS:
        cls, name, original = _ORIGINALS.pop()
        if original is _UNSET:
            delattr(cls, name)
        else:
            setattr(cls, name, original)


def _make_call(original, flavour: Flavour):
    local = RECORDER.local
    stack = local.stack

    @functools.wraps(original)
    def __call__(self, *args, **kwargs):
        if not RECORDER.active or local.busy:
            return original(self, *args, **kwargs)
        try:
            symbolic = flavour.is_symbolic(args, kwargs)
            if symbolic:
                _note_node(self, kwargs, flavour)
        except Exception as exc:
            _note(exc)
            return original(self, *args, **kwargs)
        if symbolic:
            return original(self, *args, **kwargs)
        frame = [self, _UNSET, None]
        try:
            if stack:
                frame[2] = stack[0][2]
            else:
                if RECORDER.stack:
                    kind = "phase"
                elif flavour.tape_active():
                    kind = "tape"
                else:
                    kind = "call"
                explicit = kwargs.get("training") is not None
                frame[2] = RECORDER.context(kind, user_site(), self, explicit)
            info = RECORDER.info(self, flavour)
        except Exception as exc:
            _note(exc)
            return original(self, *args, **kwargs)
        if info is not None and info.kind is not None and info.slot not in RECORDER.first_seen:
            try:
                with _OutsideGraph():
                    RECORDER.first_seen[info.slot] = RECORDER.snapshot_layer(info, flavour)
            except Exception:  # values not readable here (a JAX trace): the phase boundaries still are
                RECORDER.first_seen[info.slot] = None
        stack.append(frame)
        try:
            out = original(self, *args, **kwargs)
        finally:
            stack.pop()
        if info is not None and info.kind is not None:
            try:
                training = frame[1]
                if training is _UNSET:  # resolution not seen (a Keras without the hook)
                    training = kwargs.get("training")
                x = args[0] if args and info.kind in rec.NOISY_KINDS else None
                flavour.count(RECORDER.base(frame[2], info), training, x, out)
            except Exception as exc:
                _note(exc)
        return out

    return __call__


def _note_node(layer, kwargs, flavour: Flavour) -> None:
    """A functional graph node being built: where, and its literal ``training=``."""
    training = kwargs.get("training", _UNSET)
    mode_dependent = flavour.kind(layer) is not None
    is_model = "Functional" in flavour.class_names(layer) or "Sequential" in flavour.class_names(layer)
    if not (mode_dependent or is_model or training is not _UNSET):
        return
    site = user_site()
    RECORDER.node_sites.setdefault(id(layer), site)
    if isinstance(training, bool):
        RECORDER.node_training[id(layer)] = (training, site)


def _make_sequential_add(original):
    """A layer placed in a Sequential model: its node is where the program
    listed it (``Sequential([..., base, ...])`` or ``model.add(base)``), not
    where Keras builds the graph (at the constructor's first line in Keras 3,
    at the first fit in tf_keras, which builds a Sequential model lazily)."""
    @functools.wraps(original)
    def add(self, layer, *args, **kwargs):
        if RECORDER.active and not RECORDER.local.busy:
            try:
                site = _listed_site(layer)
                if site is not None:
                    RECORDER.node_sites.setdefault(id(layer), site)
            except Exception as exc:
                _note(exc)
        return original(self, layer, *args, **kwargs)

    return add


def _listed_site(layer) -> Optional[Site]:
    """The program's line that names `layer` in the call being run: the
    element of a ``Sequential([...])`` list literal that is a name bound to
    `layer` (a multi-line call reports its first line), else the call's line."""
    site = user_site(3)
    frame = sys._getframe(2)
    while frame is not None and not rec.is_user_frame(frame):
        frame = frame.f_back
    if site is None or frame is None or frame.f_code.co_filename != site.path:
        return site  # in a tf.function: AutoGraph's line map gave the site
    for call in _calls_at(site.path, site.line):
        for arg in list(call.args[:1]) + [k.value for k in call.keywords if k.arg == "layers"]:
            for element in getattr(arg, "elts", ()) if isinstance(arg, (ast.List, ast.Tuple)) else ():
                if isinstance(element, ast.Name):
                    value = frame.f_locals.get(element.id, frame.f_globals.get(element.id, _UNSET))
                    if value is layer:
                        return Site(site.path, element.lineno, site.function)
    return site


_CALLS: dict = {}


def _calls_at(path: str, line: int) -> list:
    """The calls of `path` whose first line is `line` (files parsed once)."""
    if path not in _CALLS:
        try:
            with open(path, "rb") as handle:
                tree = ast.parse(handle.read())
        except (OSError, SyntaxError, ValueError):
            tree = None
        by_line: dict = {}
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Call):
                by_line.setdefault(node.lineno, []).append(node)
        _CALLS[path] = by_line
    return _CALLS[path].get(line, [])


def _make_phase(original, kind: str, flavour: Flavour):
    @functools.wraps(original)
    def method(self, *args, **kwargs):
        if not RECORDER.active or RECORDER.local.busy or RECORDER.local.stack or any(
                entry["model"] is self and entry["phase"].kind == kind for entry in RECORDER.stack):
            return original(self, *args, **kwargs)
        try:
            with _OutsideGraph():
                entry = rec.enter_phase(RECORDER, self, kind, flavour, user_site())
        except Exception as exc:
            _note(exc)
            return original(self, *args, **kwargs)
        try:
            return original(self, *args, **kwargs)
        finally:
            try:
                rec.exit_phase(RECORDER, entry)
            except Exception as exc:
                _note(exc)

    return method


def _make_exporting(original):
    """Functions traced while exporting get no counting op."""

    @functools.wraps(original)
    def method(self, *args, **kwargs):
        RECORDER.local.exporting += 1
        try:
            return original(self, *args, **kwargs)
        finally:
            RECORDER.local.exporting -= 1

    return method


def _make_compile(original, flavour: Flavour):
    @functools.wraps(original)
    def compile(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if RECORDER.active:
            try:
                rec.compiled(RECORDER, self, flavour)
            except Exception as exc:
                _note(exc)
        return result

    return compile


def _make_apply(original, variables_at: int):
    """``apply(grads, trainable_variables)`` (Keras 3) or
    ``apply_gradients(grads_and_vars)`` (tf_keras): note the optimizer and
    the variables it steps (its first calls: a traced step calls it once)."""

    @functools.wraps(original)
    def apply(self, *args, **kwargs):
        if not RECORDER.active or RECORDER.optimizer_calls.get(id(self), 0) >= 3:
            return original(self, *args, **kwargs)  # the variables a step trains are known by now
        try:
            RECORDER.optimizer_calls[id(self)] = RECORDER.optimizer_calls.get(id(self), 0) + 1
            if variables_at == 1:  # grads_and_vars may be an iterator: read it once, pass the list on
                pairs = list(args[0] if args else kwargs.pop("grads_and_vars"))
                args = (pairs,) + tuple(args[1:])
                variables = [v for _, v in pairs]
            else:
                variables = args[1] if len(args) > 1 else kwargs.get("trainable_variables")
                if variables is None:
                    variables = getattr(self, "_trainable_variables", None) or []
            RECORDER.optimizers[id(self)] = self
            known = RECORDER.optimizer_vars.setdefault(id(self), set())
            if len(known) < 100_000:
                known.update(id(v) for v in variables)
                # Keras 3 wraps tf.Variables in its own; tf_keras hands the raw ones.
                known.update(id(rec.unwrapped(v)) for v in variables)
        except Exception as exc:
            _note(exc)
        return original(self, *args, **kwargs)

    return apply


def _assigned_by_user(frame) -> bool:
    """Whether ``layer.trainable = ...`` was written by the program: past
    the layers' own ``__setattr__`` (attribute tracking, both flavours)."""
    while frame is not None and frame.f_code.co_name in ("__setattr__", "_method_wrapper"):
        frame = frame.f_back
    return frame is not None and rec.is_user_frame(frame)


def _patch_trainable(Layer, flavour) -> None:
    prop = Layer.__dict__["trainable"]
    depth = [0]

    def setter(self, value):
        # Only the program's own assignments: tf_keras sets the compiled
        # flags itself around each training call (RespectCompiledTrainableState).
        if RECORDER.active and not depth[0] and _assigned_by_user(sys._getframe(1)):
            try:
                RECORDER.trainable_seq += 1
                RECORDER.trainable_sets[id(self)] = (RECORDER.trainable_seq, user_site(), bool(value), self, flavour)
            except Exception as exc:
                _note(exc)
        depth[0] += 1
        try:
            prop.fset(self, value)
        finally:
            depth[0] -= 1

    _patch(Layer, "trainable", property(prop.fget, setter, prop.fdel, prop.__doc__))


# -- installation ------------------------------------------------------------
_INSTALLED: dict = {}


def instrument_loaded() -> None:
    """Instrument each Keras flavour already imported (idempotent)."""
    for module, cls in (("keras", Keras3), ("tf_keras", TfKeras)):
        if module in _INSTALLED or module not in sys.modules:
            continue
        if module == "keras" and not _is_keras3():
            continue
        try:
            flavour = cls()
            flavour.patch()
        except Exception as exc:  # an unknown Keras: run untraced rather than break it
            _note(exc)
            continue
        _INSTALLED[module] = flavour
        RECORDER.flavours.append(flavour.name)
        if RECORDER.window is None and not RECORDER.stack:
            RECORDER.open_window(flavour)


def _is_keras3() -> bool:
    version = getattr(sys.modules.get("keras"), "__version__", "0")
    return version.split(".")[0].isdigit() and int(version.split(".")[0]) >= 3


class _KerasFinder:
    """A meta path finder that instruments Keras right after it is imported
    (the script may pick its backend or flavour through the environment
    before importing it, so the tracer never imports Keras itself)."""

    def find_spec(self, name, path=None, target=None):
        if name not in ("keras", "tf_keras") or name in _INSTALLED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                loader = spec.loader
                original = loader.exec_module

                def exec_module(module, _original=original):
                    _original(module)
                    instrument_loaded()

                spec.loader = _Loader(loader, exec_module)
                return spec
            if spec is not None:
                return spec
        return None


class _Loader:
    def __init__(self, loader, exec_module):
        self._loader = loader
        self.exec_module = exec_module

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def __getattr__(self, name):
        return getattr(self._loader, name)


_FINDER = _KerasFinder()


def install() -> None:
    """Start recording; instrument Keras now or when it is imported."""
    RECORDER.active = True
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    instrument_loaded()


def restart() -> None:
    """A new report starts here (the pytest fixture, ModeMonitor)."""
    RECORDER.reset()
    flavour = next(iter(_INSTALLED.values()), None)
    if flavour is not None:
        RECORDER.open_window(flavour)


def checkpoint() -> None:
    """Attribute everything counted so far, so that a report can be read
    while the run goes on."""
    RECORDER.boundary()
    flavour = next(iter(_INSTALLED.values()), None)
    if not RECORDER.stack and flavour is not None:
        RECORDER.close_window()
        RECORDER.open_window(flavour)


def uninstall() -> None:
    RECORDER.active = False
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    unpatch()
    _INSTALLED.clear()
