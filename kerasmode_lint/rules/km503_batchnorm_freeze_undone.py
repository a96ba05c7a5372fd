"""KM503 batchnorm-freeze-undone (docs/semantics.md R12).

``Layer.trainable``'s setter is recursive: ``base.trainable = True`` sets the
flag on every layer inside ``base``. BatchNormalization layers frozen *before*
it (``for layer in base.layers: if isinstance(layer, BatchNormalization):
layer.trainable = False``, ``base.get_layer("bn").trainable = False``,
``BatchNormalization(trainable=False)``) are trainable again: in ``fit`` they
use batch statistics, update their moving statistics and train gamma/beta.

Flags the ``container.trainable = True`` (on the BN layers' model, a model
containing it, or ``for layer in base.layers: layer.trainable = True``) that
decides the BN layers' flag at the next compile, training call or at the end
of the function. Freezing the BN layers after unfreezing the container, and
unfreezing only non-BN layers (``if not isinstance(layer,
BatchNormalization)``), are silent.

Keras 3 with the TensorFlow backend skips an assignment of the value the
container's own flag already has, so there ``base.trainable = True`` only
reaches the BN layers when ``base`` was frozen before (the transfer-learning
sequence); in Keras 3 the rule needs to see that freeze, in Keras 2 it does not.
BN layers are recognised by ``isinstance`` on a BatchNormalization class or by
a BN-looking layer name (``"bn"``, ``"batch_norm"``).
"""
from __future__ import annotations

from ..engine.rule import Rule
from ..analysis.trainable_flow import flow_of
from ..engine.versions import ALL


class BatchnormFreezeUndone(Rule):
    code = "KM503"
    name = "batchnorm-freeze-undone"
    summary = (
        "BatchNormalization layers frozen, then their container set `trainable = True`: "
        "the recursive setter makes them trainable again"
    )
    versions = ALL

    def leave_Module(self, node) -> None:
        for finding in flow_of(self.context).findings[self.code]:
            self.report(finding.node, finding.message, explanation=finding.explanation)
