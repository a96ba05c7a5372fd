"""Every rule's triggers, importable without libcst.

The flake8 plugin (prefilter.could_match), selection and cached runs read
this instead of importing the rules, whose modules
load libcst (over half a second). The rule classes stay the authority:
the tests fail if a rule's ``triggers`` differ from its entry here,
so add a new rule's line when you add the rule.
"""
from typing import Dict, Tuple, Union

from . import screens
from .screens import Screen

# Per rule: entries one of which must match; an entry is a word, a tuple of
# words that must all occur, or a screen (see prefilter.py, screens.py).
TRIGGERS: Dict[str, Tuple[Union[bytes, Tuple[bytes, ...], Screen], ...]] = {
    "KM101": ((b"GradientTape", b"apply_gradients"), (b"GradientTape", b"minimize"), (b"GradientTape", b".apply")),
    "KM102": (screens.TRAIN_STEP_METHOD,),
    "KM103": (screens.EVALUATION_PIN,),
    "KM201": (screens.FROZEN_MODEL_USED,),
    "KM202": (screens.FUNCTIONAL_NODE_PIN,),
    "KM203": (screens.BATCHNORM_PINNED,),
    "KM301": (screens.CALL_DEFAULT_TRAINING_TRUE,),
    "KM302": (screens.CALL_TRAINING_WITHOUT_DEFAULT,),
    "KM303": (screens.POSITIONAL_FLAG_TO_LAYER,),
    "KM304": (screens.PIN_INSIDE_CALL,),
    "KM305": (b"training=None", b"training = None"),
    "KM306": (screens.CALL_METHOD,),
    "KM307": (screens.CALL_METHOD,),
    "KM401": (b"learning_phase",),
    "KM501": (screens.TRAINABLE_CHANGE_BEFORE_FIT,),
    "KM502": (screens.TRAINABLE_CHANGE_BEFORE_FIT,),
    "KM503": (screens.BATCHNORM_FREEZE_CHANGE,),
}
