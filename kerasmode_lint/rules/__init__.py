"""The rule registry: one module per rule, one line per rule here."""
from .km101_tape_call_without_training import TapeCallWithoutTraining
from .km501_trainable_changed_after_compile import TrainableChangedAfterCompile
from .km502_gan_freeze_recipe_keras3 import GanFreezeRecipeKeras3
from .km503_batchnorm_freeze_undone import BatchnormFreezeUndone

ALL_RULES = [
    TapeCallWithoutTraining,
    TrainableChangedAfterCompile,
    GanFreezeRecipeKeras3,
    BatchnormFreezeUndone,
]

RULES_BY_CODE = {rule.code: rule for rule in ALL_RULES}
