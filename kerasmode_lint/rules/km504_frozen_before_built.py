"""KM504 frozen-before-built (docs/semantics.md R13).

Keras 3 with the TensorFlow backend creates each variable as a
``tf.Variable(trainable=layer.trainable)`` at the moment the layer is built,
and a ``tf.GradientTape`` watches only variables created trainable. Setting
``trainable = True`` later flips the Keras flag, not the TensorFlow one: the
variables are listed in ``trainable_weights`` but never watched, their
gradients are None (Keras warns "Gradients do not exist for variables") and
``fit`` never updates them, after a recompile too. A Layer or Model subclass
without its own ``build`` builds its sublayers at its first call, symbolic or
eager (``model.build(shape)`` does not build them), so freezing it before
that call is what creates them untrainable. tf_keras and the JAX backend
train them. Measured under Keras 3.15.1 and keras-nightly 3.16
(``fixtures/KM504/``).

Flags ``obj.trainable = True`` when, in the same function (or module),
``obj = Cls(...)`` of a Layer or Model subclass defined in the file with
sublayers built in ``__init__`` and no ``build`` method was set
``trainable = False`` (or built with ``trainable=False``) before any call of
it, then called (``obj(inputs)``, ``obj.predict``, ``keras.Sequential([...,
obj])``) while still frozen, and a ``fit``/``train_on_batch`` follows the
unfreeze. Precision: a call before the freeze, a ``build`` method of the
class, classes the file does not define (their contents cannot be seen) and
objects passed to a helper before they are called are left alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence

import libcst as cst

from ..analysis.file_kinds import KERAS_ITSELF, TEST
from ..analysis.names import dotted
from ..analysis.subclasses import ClassInfo
from ..engine.rule import Rule
from ..engine.versions import KERAS3
from ..engine.walker import iter_descendants

# Calls of an object that run it (and so build it); `build(shape)` does not
# build a subclass's sublayers, and is not one.
_RUNS = frozenset({"__call__", "predict", "predict_on_batch", "fit", "evaluate", "train_on_batch",
                   "test_on_batch", "call"})
_TRAINS = frozenset({"fit", "train_on_batch", "fit_generator"})
_KERAS_BASES = frozenset({"Layer", "Model"})

_UNBUILT, _FROZEN, _BUILT_FROZEN, _DONE = "unbuilt", "frozen", "built-frozen", "done"


@dataclass
class _Tracked:
    state: str
    freeze: Optional[cst.CSTNode] = None
    name: str = ""


class FrozenBeforeBuilt(Rule):
    code = "KM504"
    name = "frozen-before-built"
    summary = (
        "Subclassed layer or model frozen before its first call: Keras 3 on TensorFlow creates its "
        "weights untrainable, so unfreezing it never trains them"
    )
    versions = KERAS3
    backends = frozenset({"tensorflow"})
    quiet_in = frozenset({KERAS_ITSELF, TEST})

    def leave_Module(self, node: cst.Module) -> None:
        classes = {c.name.value: c for c in node.body if isinstance(c, cst.ClassDef)}
        self._lazy = {name for name, c in classes.items() if self._builds_lazily(c, classes)}
        if not self._lazy:
            return
        self._walk(node.body)
        for sub in iter_descendants(node):
            if isinstance(sub, cst.FunctionDef):
                self._walk(sub.body.body)

    # --- which classes -----------------------------------------------------

    def _builds_lazily(self, cls: cst.ClassDef, classes: Dict[str, cst.ClassDef], depth: int = 0) -> bool:
        """A Keras Layer/Model subclass with sublayers made in ``__init__``
        and no ``build`` of its own (in it or its bases in the file)."""
        if depth > 8:
            return False
        info = ClassInfo.of(cls)
        if "build" in info.methods:
            return False
        keras_base = False
        for base in cls.bases:
            if base.keyword is not None:
                continue
            qualified = self.resolve(base.value)
            if qualified is not None:
                if qualified.startswith("keras.") and qualified.rsplit(".", 1)[-1] in _KERAS_BASES:
                    keras_base = True
                    continue
                return False  # another library's class: its build cannot be seen
            parent = classes.get(dotted(base.value) or "")
            if parent is None or parent is cls or not self._builds_lazily(parent, classes, depth + 1):
                return False
            return True
        if not keras_base:
            return False
        init = info.methods.get("__init__")
        return init is not None and any(isinstance(v, cst.Call) for vs in info.attributes.values() for v in vs)

    # --- the order of statements ----------------------------------------------

    def _walk(self, body: Sequence[cst.CSTNode]) -> None:
        tracked: Dict[str, _Tracked] = {}
        pending: List[tuple] = []  # (unfreeze node, tracked) waiting for a training call
        for stmt in _statements(body):
            if any(_trains(sub) for sub in iter_descendants(stmt) if isinstance(sub, cst.Call)):
                for unfreeze, item in pending:
                    self.report(unfreeze, self._message(item), explanation=self._explanation(item))
                pending = []
            self._step(stmt, tracked, pending)

    def _step(self, stmt: cst.CSTNode, tracked: Dict[str, _Tracked], pending: List[tuple]) -> None:
        for small in getattr(stmt, "body", ()):
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = dotted(small.targets[0].target)
                if target is None:
                    continue
                if target.endswith(".trainable") and target.count(".") == 1:
                    self._uses(small.value, tracked)
                    self._set_flag(target[: -len(".trainable")], small, tracked, pending)
                    continue
                self._uses(small.value, tracked)
                value = small.value
                if "." not in target and isinstance(value, cst.Call) and dotted(value.func) in self._lazy:
                    frozen = any(a.keyword is not None and a.keyword.value == "trainable"
                                 and isinstance(a.value, cst.Name) and a.value.value == "False"
                                 for a in value.args)
                    tracked[target] = _Tracked(_FROZEN if frozen else _UNBUILT, small if frozen else None, target)
                elif target in tracked:
                    del tracked[target]  # rebound to something else
            else:
                self._uses(small, tracked)

    def _set_flag(self, name: str, node: cst.Assign, tracked: Dict[str, _Tracked], pending: List[tuple]) -> None:
        item = tracked.get(name)
        if item is None or not isinstance(node.value, cst.Name):
            return
        value = node.value.value
        if value == "False" and item.state == _UNBUILT:
            item.state, item.freeze = _FROZEN, node
        elif value == "True" and item.state == _FROZEN:
            item.state, item.freeze = _UNBUILT, None  # unfrozen before it was built: harmless
        elif value == "True" and item.state == _BUILT_FROZEN:
            item.state = _DONE
            pending.append((node, item))

    def _uses(self, node: cst.CSTNode, tracked: Dict[str, _Tracked]) -> None:
        """Calls that build a tracked object, and uses we cannot follow."""
        if not tracked:
            return
        handled = set()
        for sub in [node, *iter_descendants(node)]:
            if not isinstance(sub, cst.Call):
                continue
            func = dotted(sub.func)
            name = None
            if func in tracked:
                name = func
            elif func and "." in func and func.rsplit(".", 1)[0] in tracked and func.rsplit(".", 1)[1] in _RUNS:
                name = func.rsplit(".", 1)[0]
            elif (self.resolve(sub.func) or "").endswith(".Sequential"):
                for element in _list_elements(sub):
                    if dotted(element) in tracked:
                        self._built(tracked[dotted(element)])
                        handled.add(id(element))
                continue
            if name is not None:
                self._built(tracked[name])
                handled.add(id(sub.func))
                continue
            for arg in sub.args:
                key = dotted(arg.value)
                if key in tracked and id(arg.value) not in handled and tracked[key].state in (_UNBUILT, _FROZEN):
                    del tracked[key]  # handed to code we do not follow: it may be built there

    @staticmethod
    def _built(item: _Tracked) -> None:
        if item.state == _UNBUILT:
            item.state = _DONE
        elif item.state == _FROZEN:
            item.state = _BUILT_FROZEN

    def _message(self, item: _Tracked) -> str:
        return (f"`{item.name}` was first built while frozen: Keras 3 on TensorFlow made its weights "
                "untrainable, and fit never updates them")

    def _explanation(self, item: _Tracked) -> str:
        freeze = self.code_for(item.freeze).strip() if item.freeze is not None else ""
        where = f" (`{freeze}`)" if freeze and "\n" not in freeze and len(freeze) < 80 else ""
        return (f"`{item.name}` is a subclassed layer or model without a `build()` method, so its sublayers "
                f"create their variables at its first call. It was frozen{where} before that call: with the "
                "TensorFlow backend Keras 3 creates them as non-trainable `tf.Variable`s, which a GradientTape "
                "never watches. `trainable = True` (and a recompile) lists them as trainable again, but their "
                "gradients are None (Keras warns \"Gradients do not exist for variables\") and `fit` leaves "
                "them unchanged. tf_keras and the JAX backend train them. Call it once on a batch (or build "
                "its sublayers in a `build()` method) before setting `trainable = False`.")


def _statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Simple statements in textual order, entering if/for/while/with/try
    blocks (not nested functions or classes, which run elsewhere)."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield stmt
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        else:
            for block in _blocks(stmt):
                yield from _statements(block)


def _blocks(stmt: cst.CSTNode) -> Iterator[Sequence[cst.CSTNode]]:
    for name in ("body", "orelse", "finalbody"):
        part = getattr(stmt, name, None)
        if part is None:
            continue
        if isinstance(part, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            yield part.body
        elif isinstance(part, (cst.Else, cst.Finally)):
            yield part.body.body
        elif isinstance(part, cst.If):
            yield from _blocks_of_if(part)
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body.body


def _blocks_of_if(node: cst.If) -> Iterator[Sequence[cst.CSTNode]]:
    yield node.body.body
    if isinstance(node.orelse, cst.If):
        yield from _blocks_of_if(node.orelse)
    elif isinstance(node.orelse, cst.Else):
        yield node.orelse.body.body


def _trains(call: cst.Call) -> bool:
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in _TRAINS


def _list_elements(call: cst.Call) -> Iterator[cst.CSTNode]:
    for arg in call.args:
        if isinstance(arg.value, (cst.List, cst.Tuple)):
            for element in arg.value.elements:
                yield element.value
