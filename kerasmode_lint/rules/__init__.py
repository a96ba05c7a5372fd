"""The rule registry: one module per rule, one line per rule here."""
from .km101_tape_call_without_training import TapeCallWithoutTraining
from .km201_frozen_model_without_training_false import FrozenModelWithoutTrainingFalse
from .km202_functional_training_overridden import FunctionalTrainingOverridden
from .km203_batchnorm_pinned_to_training import BatchnormPinnedToTraining

ALL_RULES = [
    TapeCallWithoutTraining,
    FrozenModelWithoutTrainingFalse,
    FunctionalTrainingOverridden,
    BatchnormPinnedToTraining,
]

RULES_BY_CODE = {rule.code: rule for rule in ALL_RULES}
