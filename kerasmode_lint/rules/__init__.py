"""The rule registry: one module per rule, one line per rule here."""
from .km101_tape_call_without_training import TapeCallWithoutTraining
from .km301_call_default_training_true import CallDefaultTrainingTrue
from .km302_call_training_without_default import CallTrainingWithoutDefault
from .km303_positional_training import PositionalTraining
from .km304_training_pin_leaks_to_siblings import TrainingPinLeaksToSiblings
from .km305_explicit_training_none import ExplicitTrainingNone

ALL_RULES = [
    TapeCallWithoutTraining,
    CallDefaultTrainingTrue,
    CallTrainingWithoutDefault,
    PositionalTraining,
    TrainingPinLeaksToSiblings,
    ExplicitTrainingNone,
]

RULES_BY_CODE = {rule.code: rule for rule in ALL_RULES}
