"""The rule registry: one module per rule, listed here in code order.

A rule module is imported when a file first needs it: the engine loads only
the rules whose triggers (kerasmode_lint/engine/triggers.py, which loads without
libcst) match the file, so linting one file that only KM101 can match does not
pay for importing the other rules and the analyses they use. ``ALL_RULES`` and
``RULES_BY_CODE`` load every rule (listings, documentation, tests).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Dict, List, Tuple, Type

if TYPE_CHECKING:  # pragma: no cover
    from ..engine.rule import Rule

# code -> (module in this package, class)
MODULES: Dict[str, Tuple[str, str]] = {
    "KM101": ("km101_tape_call_without_training", "TapeCallWithoutTraining"),
    "KM102": ("km102_train_step_without_training", "TrainStepWithoutTraining"),
    "KM103": ("km103_evaluation_with_training_true", "EvaluationWithTrainingTrue"),
    "KM201": ("km201_frozen_model_without_training_false", "FrozenModelWithoutTrainingFalse"),
    "KM202": ("km202_functional_training_overridden", "FunctionalTrainingOverridden"),
    "KM203": ("km203_batchnorm_pinned_to_training", "BatchnormPinnedToTraining"),
    "KM301": ("km301_call_default_training_true", "CallDefaultTrainingTrue"),
    "KM302": ("km302_call_training_without_default", "CallTrainingWithoutDefault"),
    "KM303": ("km303_positional_training", "PositionalTraining"),
    "KM304": ("km304_training_pin_leaks_to_siblings", "TrainingPinLeaksToSiblings"),
    "KM305": ("km305_explicit_training_none", "ExplicitTrainingNone"),
    "KM306": ("km306_jax_training_not_forwarded", "JaxTrainingNotForwarded"),
    "KM307": ("km307_model_call_without_training", "ModelCallWithoutTraining"),
    "KM401": ("km401_learning_phase_api", "LearningPhaseApi"),
    "KM501": ("km501_trainable_changed_after_compile", "TrainableChangedAfterCompile"),
    "KM502": ("km502_gan_freeze_recipe_keras3", "GanFreezeRecipeKeras3"),
    "KM503": ("km503_batchnorm_freeze_undone", "BatchnormFreezeUndone"),
    "KM504": ("km504_frozen_before_built", "FrozenBeforeBuilt"),
}
CODES: Tuple[str, ...] = tuple(MODULES)

_loaded: Dict[str, Type["Rule"]] = {}


def load(code: str) -> Type["Rule"]:
    """The rule class for ``code``, importing its module on first use."""
    rule = _loaded.get(code)
    if rule is None:
        from ..engine.libcst_loader import load as load_libcst

        load_libcst()  # before any rule module imports it (libcst_loader.py says why)
        module, name = MODULES[code]
        rule = _loaded[code] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return rule


def load_all() -> List[Type["Rule"]]:
    return [load(code) for code in CODES]


def __getattr__(name: str):
    if name == "ALL_RULES":
        return load_all()
    if name == "RULES_BY_CODE":
        return {code: load(code) for code in CODES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
