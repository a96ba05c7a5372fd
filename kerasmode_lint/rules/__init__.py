"""The rule registry: one module per rule, one line per rule here."""
from .km101_tape_call_without_training import TapeCallWithoutTraining
from .km102_train_step_without_training import TrainStepWithoutTraining
from .km401_learning_phase_api import LearningPhaseApi

ALL_RULES = [
    TapeCallWithoutTraining,
    TrainStepWithoutTraining,
    LearningPhaseApi,
]

RULES_BY_CODE = {rule.code: rule for rule in ALL_RULES}
