"""Runs generated programs one after the other in one TensorFlow process.

Started by tests/differential/run.py with a flavour's environment (the one the
fixtures use, tests/fixture_harness.fixture_env). Reads one JSON program per
line on stdin (``{"source", "meta"}``) and answers one JSON line per program
on the protocol channel: ``{"phases": {name: {"dropped": {layer: bool},
"bn_moved": {layer: bool}, "changed": {dense: bool}}}, "error": ...}``.

How the effects are seen (the same reading as fixtures/observe.py): the
class-level ``Dropout.call`` is wrapped once so every run of it -- eager, in a
``tf.function`` (through ``tf.numpy_function``) or under ``jax.jit``
(``jax.debug.callback``) -- records whether its output holds zeros its input
did not; BatchNormalization moving means and Dense kernels are compared before
and after each phase. A program runs statement by statement in a fresh
namespace; the statements inside one phase's lines form that phase. The Keras
session is cleared between programs.
"""
import ast
import contextlib
import gc
import io
import json
import os
import sys
import traceback

import numpy as np

_PHASE = ["setup"]
_DROPS = {}


def _note(name, inputs, outputs):
    dropped = bool(np.any((np.asarray(outputs) == 0) & (np.asarray(inputs) != 0)))
    key = (_PHASE[0], name)
    _DROPS[key] = _DROPS.get(key, False) or dropped


def _install_probe(keras_mod, backend):
    import inspect

    dropout = keras_mod.layers.Dropout
    original = dropout.call
    default = inspect.signature(original).parameters["training"].default

    def make(default):
        def call(self, inputs, training=default):
            outputs = original(self, inputs, training=training)
            _record(self.name, inputs, outputs)
            return outputs
        return call

    if backend == "jax":
        import jax

        def _record(name, inputs, outputs):
            jax.debug.callback(lambda i, o: _note(name, i, o), inputs, outputs)
    else:
        import tensorflow as tf

        def _record(name, inputs, outputs):
            if tf.executing_eagerly():
                _note(name, inputs.numpy(), outputs.numpy())
            else:
                def seen(i, o):
                    _note(name, i, o)
                    return np.bool_(True)
                tf.numpy_function(seen, [inputs, outputs], tf.bool, stateful=True)

    wrapped = make(default)
    wrapped.__doc__ = original.__doc__
    dropout.call = wrapped


def _value(v):
    return np.array(v.numpy() if hasattr(v, "numpy") else v)


def _layers(namespace, model_types):
    found = {}
    for value in list(namespace.values()):
        if isinstance(value, model_types):
            for layer in value._flatten_layers(include_self=True, recursive=True):
                found.setdefault(layer.name, layer)
    return found


def _snapshot(namespace, kinds):
    layer_type, bn_type, dense_type = kinds
    bn, dense = {}, {}
    for name, layer in _layers(namespace, layer_type).items():
        if isinstance(layer, bn_type) and getattr(layer, "moving_mean", None) is not None:
            bn[name] = _value(layer.moving_mean)
        elif isinstance(layer, dense_type) and getattr(layer, "kernel", None) is not None:
            try:
                dense[name] = _value(layer.kernel)
            except Exception:  # not built yet
                pass
    return bn, dense


def run_program(source, meta, kinds):
    tree = ast.parse(source)
    spans = [(p["name"], p["lines"][0], p["lines"][1]) for p in meta["phases"]]

    def phase_of(stmt):
        for name, first, last in spans:
            if first <= stmt.lineno <= last:
                return name
        return "setup"

    namespace = {"__name__": "__main__"}
    observed, error = {}, None
    groups = []
    for stmt in tree.body:
        name = phase_of(stmt)
        if groups and groups[-1][0] == name:
            groups[-1][1].append(stmt)
        else:
            groups.append((name, [stmt]))
    for name, stmts in groups:
        _PHASE[0] = name
        before = _snapshot(namespace, kinds) if name != "setup" else None
        try:
            code = compile(ast.Module(body=stmts, type_ignores=[]), "<program>", "exec")
            exec(code, namespace)
        except Exception as exc:  # noqa: BLE001 - the program's failure is a result
            error = {"phase": name, "type": type(exc).__name__, "message": str(exc)[:300],
                     "line": _error_line(exc)}
            break
        if before is not None:
            after = _snapshot(namespace, kinds)
            # A BatchNormalization first built during the phase (a subclass's
            # `build(shape)` leaves its sublayers unbuilt) started from its
            # zeros initializer: compare with that, or its phase goes unseen.
            start = {**{k: np.zeros_like(v) for k, v in after[0].items()}, **before[0]}
            observed[name] = {
                "dropped": {layer: d for (ph, layer), d in _DROPS.items() if ph == name},
                "bn_moved": {k: not np.array_equal(v, after[0][k]) for k, v in start.items() if k in after[0]},
                "changed": {k: not np.array_equal(v, after[1][k]) for k, v in before[1].items() if k in after[1]},
            }
    _PHASE[0] = "setup"
    _DROPS.clear()
    return {"phases": observed, "error": error}


def _error_line(exc):
    tb = traceback.extract_tb(exc.__traceback__)
    lines = [f.lineno for f in tb if f.filename == "<program>"]
    return lines[-1] if lines else None


def main():
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
    import warnings

    warnings.filterwarnings("ignore")
    import tensorflow as tf

    if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
        import tf_keras as keras_mod
        backend = "tensorflow"
    else:
        import keras as keras_mod
        backend = keras_mod.backend.backend()
    tf.get_logger().setLevel("ERROR")
    _install_probe(keras_mod, backend)
    kinds = (keras_mod.layers.Layer, keras_mod.layers.BatchNormalization, keras_mod.layers.Dense)
    protocol.write(json.dumps({"ready": True, "keras": keras_mod.__version__, "backend": backend}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                result = run_program(request["source"], request["meta"], kinds)
            except BaseException:  # noqa: B902 - reported, the next program still runs
                result = {"phases": {}, "error": {"phase": "runner", "type": "RunnerError",
                                                  "message": traceback.format_exc()[-500:], "line": None}}
        try:
            keras_mod.backend.clear_session()
        except Exception:
            pass
        gc.collect()
        protocol.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
