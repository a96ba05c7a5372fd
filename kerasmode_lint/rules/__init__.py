"""The rule registry: one module per rule, listed here in code order."""
from .km101_tape_call_without_training import TapeCallWithoutTraining
from .km102_train_step_without_training import TrainStepWithoutTraining
from .km103_evaluation_with_training_true import EvaluationWithTrainingTrue
from .km201_frozen_model_without_training_false import FrozenModelWithoutTrainingFalse
from .km202_functional_training_overridden import FunctionalTrainingOverridden
from .km203_batchnorm_pinned_to_training import BatchnormPinnedToTraining
from .km301_call_default_training_true import CallDefaultTrainingTrue
from .km302_call_training_without_default import CallTrainingWithoutDefault
from .km303_positional_training import PositionalTraining
from .km304_training_pin_leaks_to_siblings import TrainingPinLeaksToSiblings
from .km305_explicit_training_none import ExplicitTrainingNone
from .km306_jax_training_not_forwarded import JaxTrainingNotForwarded
from .km401_learning_phase_api import LearningPhaseApi
from .km501_trainable_changed_after_compile import TrainableChangedAfterCompile
from .km502_gan_freeze_recipe_keras3 import GanFreezeRecipeKeras3
from .km503_batchnorm_freeze_undone import BatchnormFreezeUndone

ALL_RULES = [
    TapeCallWithoutTraining,
    TrainStepWithoutTraining,
    EvaluationWithTrainingTrue,
    FrozenModelWithoutTrainingFalse,
    FunctionalTrainingOverridden,
    BatchnormPinnedToTraining,
    CallDefaultTrainingTrue,
    CallTrainingWithoutDefault,
    PositionalTraining,
    TrainingPinLeaksToSiblings,
    ExplicitTrainingNone,
    JaxTrainingNotForwarded,
    LearningPhaseApi,
    TrainableChangedAfterCompile,
    GanFreezeRecipeKeras3,
    BatchnormFreezeUndone,
]

RULES_BY_CODE = {rule.code: rule for rule in ALL_RULES}
