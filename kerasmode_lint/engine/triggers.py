"""Every rule's triggers, importable without libcst: the one place they are written.

The flake8 plugin (prefilter.could_match), selection and cached runs read
this table instead of importing the rules, whose modules load libcst (over
half a second); each rule class gets its ``triggers`` from its entry here
(Rule.__init_subclass__), so a new rule without an entry fails to load.
"""
from typing import Dict, Tuple, Union

from . import screens
from .screens import Screen

# Per rule: entries one of which must match; an entry is a word, a tuple of
# words that must all occur, or a screen (see prefilter.py, screens.py).
TRIGGERS: Dict[str, Tuple[Union[bytes, Tuple[bytes, ...], Screen], ...]] = {
    # A tape and an optimizer step (apply_gradients, minimize, opt.apply):
    # tests that only take gradients (most of keras's own) are never parsed.
    "KM101": ((b"GradientTape", b"apply_gradients"), (b"GradientTape", b"minimize"), (b"GradientTape", b".apply")),
    "KM102": (screens.TRAIN_STEP_METHOD,),
    # A literal True, outside test files unless a test_step/predict_step is there.
    "KM103": (screens.EVALUATION_PIN,),
    # Only a literal ``trainable = False`` / ``trainable=False`` freezes.
    # A literal `trainable = False` and a Sequential or functional model.
    "KM201": (screens.FROZEN_MODEL_USED,),
    # Only literal values are judged.
    # A literal True/False and a model built from tensors.
    "KM202": (screens.FUNCTIONAL_NODE_PIN,),
    # A literal True and a BatchNormalization (or an application built with one).
    "KM203": (screens.BATCHNORM_PINNED,),
    "KM301": (screens.CALL_DEFAULT_TRAINING_TRUE,),
    # A `def call(` and a `training` with no default after it.
    "KM302": (screens.CALL_TRAINING_WITHOUT_DEFAULT,),
    # The layer index recognises layer calls only in files that use Keras
    # ("keras" is in every spelling of it: keras, tf.keras, tf_keras,
    # keras_core), and a positional `, True)` must go to a call that may be
    # one: not `np.mean(x, 0, True)` or `self.assertEqual(x, False)`.
    "KM303": (screens.POSITIONAL_FLAG_TO_LAYER,),
    # A literal False/None pin and a `def call(`.
    "KM304": (screens.PIN_INSIDE_CALL,),
    "KM305": (b"training=None", b"training = None"),
    "KM306": (screens.CALL_METHOD,),
    "KM307": (screens.MODEL_CALL_WITHOUT_FLAG,),
    "KM401": (b"learning_phase",),
    # A trainable change, a compile() and a training call.
    "KM501": (screens.TRAINABLE_CHANGE_BEFORE_FIT,),
    # A trainable change, a compile() and a training call.
    "KM502": (screens.TRAINABLE_CHANGE_BEFORE_FIT,),
    # A trainable change and a BatchNormalization class or layer name.
    "KM503": (screens.BATCHNORM_FREEZE_CHANGE,),
    # A class of the file, an unfreeze and a training call.
    "KM504": ((b"class ", b"trainable", b"True", b"fit"), (b"class ", b"trainable", b"True", b"train_on_batch")),
}
