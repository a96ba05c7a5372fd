"""The rule registry: one module per rule, one line per rule here."""
from .km101_tape_call_without_training import TapeCallWithoutTraining
from .km102_train_step_without_training import TrainStepWithoutTraining
from .km103_evaluation_with_training_true import EvaluationWithTrainingTrue
from .km306_jax_training_not_forwarded import JaxTrainingNotForwarded
from .km401_learning_phase_api import LearningPhaseApi

ALL_RULES = [
    TapeCallWithoutTraining,
    TrainStepWithoutTraining,
    EvaluationWithTrainingTrue,
    JaxTrainingNotForwarded,
    LearningPhaseApi,
]

RULES_BY_CODE = {rule.code: rule for rule in ALL_RULES}
