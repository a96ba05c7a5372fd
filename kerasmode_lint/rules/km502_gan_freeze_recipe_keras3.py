"""KM502 gan-freeze-recipe-keras3 (docs/semantics.md R14).

The classic Keras 2 GAN recipe compiles the discriminator, sets
``D.trainable = False``, compiles the combined model and then alternates
``D.train_on_batch`` and ``combined.train_on_batch``. It works in Keras 2
because each model uses the flags recorded by its own ``compile()``. Keras 3
takes the trainable weights from the first training call instead, so ``D``
is never trained (silently; at most "The model does not have any trainable
weights"), and a ``D.trainable = True`` left in force when the combined model
first trains makes the generator step train ``D`` too.

Flags, at a compiled model's first training call, a ``trainable`` assignment
made after that model's ``compile()`` and *meant for another model* (the
other model, which contains the object, was compiled or trained in between),
which leaves the flag different from what it was at ``compile()``. Reported at
the assignment.

Keras 3 only: the recipe is correct in Keras 2. Toggling ``D.trainable`` right
before each model's own training call (the portable fix), and a custom
``train_step``, are silent. Not flagged: ``D`` trained once before being frozen
(TensorFlow keeps training it; JAX raises loudly), models passed in from
elsewhere (no ``compile()`` seen on the path).
"""
from __future__ import annotations

from ..engine.rule import Rule
from ..analysis.trainable_flow import flow_of
from ..engine.versions import KERAS3


class GanFreezeRecipeKeras3(Rule):
    code = "KM502"
    name = "gan-freeze-recipe-keras3"
    summary = (
        "Keras 2 GAN recipe (compile D, freeze D, compile the combined model): in Keras 3 "
        "D.train_on_batch never updates D"
    )
    versions = KERAS3

    def leave_Module(self, node) -> None:
        if "compile" not in self.context.source:
            return
        for finding in flow_of(self.context).findings[self.code]:
            self.report(finding.node, finding.message, explanation=finding.explanation)
