"""KM501 trainable-changed-after-compile (docs/semantics.md R13).

``trainable`` is read at a fixed moment, not at every step. Keras 2 records
every layer's flag in ``compile()`` and restores the record inside each
``fit``/``train_on_batch``, so a change made after ``compile()`` is ignored
until the model is compiled again. Keras 3 (TensorFlow backend) fixes the
trainable weights at the first training call after ``compile()``: a change
before that call is honoured, a change after it is ignored (JAX raises, the
PyTorch backend applies a freeze and raises on an unfreeze).

Flags a ``trainable`` assignment (on the model, a sub-model, an attribute such
as ``model.backbone``, or layers of it; also ``make_trainable(m, False)``-style
helpers) that lies between ``m.compile()`` (Keras 2) or ``m``'s first training
call (Keras 3) and a later ``m.fit``/``m.train_on_batch``, with no new
``compile()`` in between, and that changes the flag from what the ignored-to
state holds. Order is read from the statement lists (``if`` forks, loop bodies
run twice; see ``trainable_flow``).

Precision: a change followed by the compile or training of *another* model
containing the object (``D.trainable = False`` before ``combined.compile()``,
toggles before each model's own training call) is the GAN recipe, not a
forgotten recompile: it belongs to KM502 and is never reported here. Setting
a flag to the value it already has, and non-literal values, are ignored. In
Keras 3 a change before the first training call is correct and silent
(keras-cv#1746's ``model.backbone.trainable = False`` after ``compile()``).
"""
from __future__ import annotations

from ..analysis.file_kinds import KERAS_ITSELF, TEST
from ..engine.rule import Rule
from ..analysis.trainable_flow import flow_of
from ..engine.versions import ALL


class TrainableChangedAfterCompile(Rule):
    code = "KM501"
    name = "trainable-changed-after-compile"
    summary = (
        "`trainable` changed after compile() (Keras 2) or after the first fit (Keras 3) "
        "without compiling again: the next fit ignores the change"
    )
    versions = ALL
    quiet_in = frozenset({KERAS_ITSELF, TEST})

    def leave_Module(self, node) -> None:
        if "compile" not in self.context.source:
            return
        for finding in flow_of(self.context).findings[self.code]:
            self.report(finding.node, finding.message, explanation=finding.explanation)
