"""KM101 tape-call-without-training: what it flags and the look-alikes it must leave alone."""
import textwrap

import pytest

from helpers import findings

HEADER = """
import tensorflow as tf
from tensorflow import keras
opt = keras.optimizers.Adam()
"""


def lint(body, version="3"):
    return findings(HEADER + textwrap.dedent(body), version)


def test_flags_model_call_in_custom_loop():
    src = """
    def step(model, x, y):
        with tf.GradientTape() as tape:
            pred = model(x)
            loss = tf.reduce_mean((pred - y) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src) == [(8, "KM101")]


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_applies_to_every_version(version):
    src = """
    with tf.GradientTape() as tape:
        loss = model(x)
    grads = tape.gradient(loss, model.trainable_weights)
    opt.apply_gradients(zip(grads, model.trainable_weights))
    """
    assert [c for _, c in lint(src, version)] == ["KM101"]


def test_message_names_the_model_and_the_fix():
    from kerasmode_lint import lint_source

    src = HEADER + textwrap.dedent("""
    with tf.GradientTape() as tape:
        loss = self.net(x)
    grads = tape.gradient(loss, self.net.trainable_variables)
    self.optimizer.apply_gradients(zip(grads, self.net.trainable_variables))
    """)
    [diag] = lint_source(src, "x.py", keras_version="3")
    assert "`self.net`" in diag.message and "training=True" in diag.message
    assert diag.column == 12


def test_alias_imports_and_several_tapes():
    src = """
    import tensorflow as T
    from tensorflow import GradientTape as GT
    with T.GradientTape() as gt, GT(persistent=True) as dt:
        fake = generator(noise)
        real_out = discriminator(real)
        fake_out = discriminator(fake)
    g = gt.gradient(gl, generator.trainable_variables)
    d = dt.gradient(dl, discriminator.trainable_variables)
    gen_opt.apply_gradients(zip(g, generator.trainable_variables))
    disc_opt.apply_gradients(zip(d, discriminator.trainable_variables))
    """
    assert lint(src) == [(9, "KM101"), (10, "KM101"), (11, "KM101")]


def test_combined_variables_and_variable_names():
    src = """
    params = encoder.trainable_variables + decoder.trainable_variables
    with tf.GradientTape() as tape:
        z = encoder(x)
        out = decoder(z)
    grads = tape.gradient(loss, params)
    opt.apply_gradients(zip(grads, params))
    """
    assert lint(src) == [(8, "KM101"), (9, "KM101")]


def test_list_of_starred_variables():
    src = """
    with tf.GradientTape() as tape:
        out = head(body(x))
    grads = tape.gradient(loss, [*body.trainable_variables, *head.trainable_variables])
    opt.apply_gradients(zip(grads, [*body.trainable_variables, *head.trainable_variables]))
    """
    assert lint(src) == [(7, "KM101"), (7, "KM101")]


def test_keras3_optimizer_apply():
    src = """
    with tf.GradientTape() as tape:
        out = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply(grads, model.trainable_variables)
    """
    assert lint(src) == [(7, "KM101")]


# --- look-alikes that must not be flagged -------------------------------------

def test_explicit_training_any_value():
    src = """
    with tf.GradientTape() as tape:
        a = model(x, training=True)
        b = model(x, training=training)
        c = model(x, **kwargs)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src) == []


def test_gradcam_gradients_wrt_activations():
    src = """
    grad_model = keras.Model(model.inputs, [model.get_layer(name).output, model.output])
    with tf.GradientTape() as tape:
        conv_out, preds = grad_model(img)
        class_channel = preds[:, 0]
    grads = tape.gradient(class_channel, conv_out)
    """
    assert lint(src) == []


def test_fgsm_gradients_wrt_input():
    src = """
    with tf.GradientTape() as tape:
        tape.watch(image)
        prediction = model(image)
        loss = loss_object(label, prediction)
    gradient = tape.gradient(loss, image)
    adv = image + eps * tf.sign(gradient)
    """
    assert lint(src) == []


def test_style_transfer_optimises_the_image():
    src = """
    image = tf.Variable(content)
    with tf.GradientTape() as tape:
        outputs = extractor(image)
        loss = style_content_loss(outputs)
    grad = tape.gradient(loss, image)
    opt.apply_gradients([(grad, image)])
    """
    assert lint(src) == []


def test_frozen_teacher_with_training_false():
    src = """
    with tf.GradientTape() as tape:
        teacher_pred = teacher(x, training=False)
        student_pred = student(x, training=True)
        loss = distill(teacher_pred, student_pred)
    grads = tape.gradient(loss, student.trainable_variables)
    opt.apply_gradients(zip(grads, student.trainable_variables))
    """
    assert lint(src) == []


def test_untrained_model_in_tape_not_flagged():
    # The teacher is called without training= but its variables are not trained.
    src = """
    with tf.GradientTape() as tape:
        t = teacher(x)
        s = student(x, training=True)
    grads = tape.gradient(loss, student.trainable_variables)
    opt.apply_gradients(zip(grads, student.trainable_variables))
    """
    assert lint(src) == []


def test_dense_only_sequential_built_in_file():
    src = """
    model = keras.Sequential([keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src) == []


def test_dense_only_functional_built_in_helper():
    src = """
    from tensorflow.keras import layers as L
    def build():
        inp = keras.Input((4,))
        h = L.Conv1D(8, 3)(inp)
        out = L.Dense(1)(L.Flatten()(h))
        return keras.Model(inp, out)
    model = build()
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src) == []


def test_functional_with_batchnorm_is_flagged():
    src = """
    from tensorflow.keras import layers as L
    def build():
        inp = keras.Input((4,))
        h = L.BatchNormalization()(L.Dense(8)(inp))
        return keras.Model(inp, L.Dense(1)(h))
    model = build()
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src) == [(13, "KM101")]


def test_subclassed_model_with_dropout_is_flagged_and_without_is_not():
    template = """
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.a = keras.layers.Dense(4)
            self.b = keras.layers.{layer}
        def call(self, x, training=None):
            return self.b(self.a(x))
    model = Net()
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(template.format(layer="Dropout(0.3)")) == [(15, "KM101")]
    assert lint(template.format(layer="Dense(1)")) == []


def test_lstm_dropout_argument_counts():
    src = """
    model = keras.Sequential([keras.layers.LSTM(8, dropout={rate}), keras.layers.Dense(1)])
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src.format(rate="0.2")) == [(8, "KM101")]
    assert lint(src.format(rate="0.0")) == []


def test_plain_function_and_non_keras_objects():
    src = """
    with tf.GradientTape() as tape:
        pred = model(x, training=True)
        loss = loss_fn(y, pred)
        reg = tf.add_n(model.losses)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src) == []


def test_no_optimizer_step_no_finding():
    # Gradients of the weights that are only inspected (e.g. logged norms).
    src = """
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    print([tf.norm(g) for g in grads])
    """
    assert lint(src) == []


def test_tape_not_from_tensorflow_is_ignored():
    src = """
    from mylib import GradientTape
    with GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src) == []


def test_train_step_self_calls_left_to_km102():
    src = """
    class M(keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                pred = self(x)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
    """
    assert lint(src) == [(10, "KM102")]  # reported once, by KM102, never by KM101


def test_noqa_silences():
    src = """
    with tf.GradientTape() as tape:
        pred = model(x)  # noqa: KM101
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert lint(src) == []


# -- mode plumbing and truthful messages ---------------------------------------------

TRANSFORMER_STEP = """
class Transformer(keras.Model):
    def __init__(self):
        super().__init__()
        self.drop = keras.layers.Dropout(0.1)
        self.out = keras.layers.Dense(8)

    def call(self, inp, tar, training, mask):
        return self.out(self.drop(inp, training=training))

transformer = Transformer()

def train_step(inp, tar, mask):
    with tf.GradientTape() as tape:
        pred = transformer(inp, tar, {flag}, mask)
        loss = tf.reduce_mean(pred)
    grads = tape.gradient(loss, transformer.trainable_variables)
    opt.apply_gradients(zip(grads, transformer.trainable_variables))
"""


@pytest.mark.parametrize("flag", ["True", "training", "is_training"])
def test_training_passed_by_position_is_not_missing(flag):
    # Keras 2 binds the third positional argument to `call`'s `training`;
    # appending `training=True` would raise "got multiple values".
    assert "KM101" not in [c for _, c in lint(TRANSFORMER_STEP.format(flag=flag), "2")]
    # Under Keras 3 the positional flag is itself the mistake: KM303's, not KM101's.
    codes = [c for _, c in lint(TRANSFORMER_STEP.format(flag=flag), "3")]
    assert "KM101" not in codes
    if flag == "True":
        assert "KM303" in codes


def test_data_named_like_training_is_not_a_flag():
    # `y_train` is data: the call still lacks `training=`.
    src = TRANSFORMER_STEP.format(flag="x_train")
    assert "KM101" in [c for _, c in lint(src, "2")]


def _diag(src):
    from kerasmode_lint import lint_source

    [diag] = lint_source(HEADER + textwrap.dedent(src), "x.py", keras_version="3")
    return diag


def _message(src):
    """The one-sentence message and the explanation under it."""
    diag = _diag(src)
    return f"{diag.message}\n{diag.explanation}"


LOOP = """
with tf.GradientTape() as tape:
    loss = model(x)
grads = tape.gradient(loss, model.trainable_variables)
opt.apply_gradients(zip(grads, model.trainable_variables))
"""


def test_message_names_only_the_layers_the_model_has():
    dropout_only = "model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.5)])\n" + LOOP
    message = _message(dropout_only)
    assert "(Dropout off)" in _diag(dropout_only).message
    assert "Dropout does not drop" in message
    assert "BatchNorm" not in message
    bn_only = "model = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization()])\n" + LOOP
    message = _message(bn_only)
    assert "(BatchNorm frozen)" in _diag(bn_only).message
    assert "BatchNormalization uses, and never updates" in message
    assert "Dropout" not in message


def test_message_says_when_the_contents_are_unknown():
    message = _message("model = keras.models.load_model('m.keras')\n" + LOOP)
    assert "(its layers could not be seen)" in message.splitlines()[0]
    assert "any Dropout in it would not drop" in message


TF_MODULE_LOOP = """
class Net({base}):
    def __init__(self):
        super().__init__()
        self.drop = keras.layers.Dropout(0.5)
        self.w = tf.Variable(tf.zeros([4, 1]))

    def {method}(self, x):
        return self.drop(x) @ self.w

model = Net()
with tf.GradientTape() as tape:
    loss = tf.reduce_sum(model(x))
grads = tape.gradient(loss, model.trainable_variables)
opt.apply_gradients(zip(grads, model.trainable_variables))
"""


def test_tf_module_is_not_a_keras_call():
    # Its __call__ takes no `training`: the suggested fix would raise TypeError.
    src = TF_MODULE_LOOP.format(base="tf.Module", method="__call__")
    assert lint(src) == [] and lint(src, "2") == []


def test_keras_model_look_alike_is_still_flagged():
    src = TF_MODULE_LOOP.format(base="keras.Model", method="call")
    assert [c for _, c in lint(src, "2")] == ["KM101"]


@pytest.mark.parametrize("keyword", ["is_training", "train", "training_mode"])
def test_flag_forwarded_under_another_name(keyword):
    # `call(self, x, is_training=False)` forwards `training=is_training` to its layers.
    src = f"""
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.drop = keras.layers.Dropout(0.5)

        def call(self, x, {keyword}=False):
            return self.drop(x, training={keyword})

    model = Net()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, {keyword}=True))
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    """
    assert "KM101" not in [c for _, c in lint(src, "2")]


# -- flow-sensitive names: the definition that reaches the use ----------------

_LOOP = """
    with tf.GradientTape() as tape:
        loss = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
"""


def test_reassigned_name_uses_the_definition_before_the_loop():
    # A notebook that loads a saved model in one cell, then builds a Dense-only
    # network and trains it by hand: the loaded model never reaches the tape.
    src = """
    model = keras.models.load_model("saved.keras")
    model = keras.Sequential([keras.layers.Dense(30, activation="relu"), keras.layers.Dense(1)])
    """ + _LOOP
    assert lint(src) == []


def test_reassigned_name_later_definition_does_not_reach_the_loop():
    src = """
    model = keras.Sequential([keras.layers.Dense(1)])
    """ + _LOOP + """
    model = keras.Sequential([keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    """
    assert lint(src) == []


def test_reassigned_name_with_dropout_before_the_loop_is_flagged():
    src = """
    model = keras.Sequential([keras.layers.Dense(1)])
    model = keras.Sequential([keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    """ + _LOOP
    assert [c for _, c in lint(src)] == ["KM101"]
    assert "its Dropout does not drop" in _message(textwrap.dedent(src))


def test_function_uses_the_definition_before_its_call():
    src = """
    def train(x):
        with tf.GradientTape() as tape:
            loss = model(x)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))

    model = keras.Sequential([keras.layers.Dense(1)])
    train(1)
    model = keras.Sequential([keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    train(2)
    """
    assert [c for _, c in lint(src)] == ["KM101"]  # the second call trains the BN model


def test_conditional_definition_keeps_the_earlier_one_too():
    src = """
    model = keras.Sequential([keras.layers.Dropout(0.5)])
    if small:
        model = keras.Sequential([keras.layers.Dense(1)])
    """ + _LOOP
    assert [c for _, c in lint(src)] == ["KM101"]


def test_function_passed_around_uses_every_definition():
    src = """
    def train(x):
        with tf.GradientTape() as tape:
            loss = model(x)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))

    model = keras.Sequential([keras.layers.Dense(1)])
    train(1)
    model = keras.Sequential([keras.layers.Dropout(0.5)])
    run_later(train)
    """
    assert [c for _, c in lint(src)] == ["KM101"]


_BUILDER = """
from tensorflow.keras import layers

def downsample(channels, apply_norm=True, apply_dropout=False):
    block = keras.Sequential()
    block.add(layers.Conv2D(channels, 3))
    if apply_norm:
        block.add(layers.LayerNormalization())
    if not apply_dropout:
        pass
    else:
        block.add(layers.Dropout(0.5))
    return block

def build(flag):
    x = keras.Input((8, 8, 3))
    y = downsample(4, apply_norm=False)(x)
    y = {second}(y)
    return keras.Model(x, y)

d = build(False)
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(d(x))
grads = tape.gradient(loss, d.trainable_variables)
opt.apply_gradients(zip(grads, d.trainable_variables))
"""


@pytest.mark.parametrize("second, flagged", [
    ("downsample(8)", False),                     # the default leaves Dropout out
    ("downsample(8, apply_dropout=False)", False),
    ("downsample(8, True, True)", True),          # positional flag turns it on
    ("downsample(8, apply_dropout=flag)", True),  # not a literal: it may be on
])
def test_builder_flags_rule_out_branches(second, flagged):
    assert bool(lint(_BUILDER.format(second=second))) is flagged


_PASSED = """
def train_one_epoch(model, optimizer, data):
    for x, y in data:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(x))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))

model = keras.models.load_model("pretrained.keras")
model = keras.Sequential([keras.layers.Dense(8), {layer}])
train_one_epoch(model, opt, data)
"""


@pytest.mark.parametrize("layer, flagged", [("keras.layers.Dense(1)", False), ("keras.layers.Dropout(0.2)", True)])
def test_model_passed_to_the_training_function_is_read_at_the_call(layer, flagged):
    # The model the module passes (read where the call is), not every model of that name.
    assert bool(lint(_PASSED.format(layer=layer))) is flagged


_GATED = """
class GraphConvolution(keras.layers.Layer):
    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def call(self, x, training=None):
        if training is not False:
            x = tf.nn.dropout(x, self.rate)
        return x

model = keras.Sequential([GraphConvolution(0.5), keras.layers.Dense(1){extra}])
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(model(x))
grads = tape.gradient(loss, model.trainable_variables)
opt.apply_gradients(zip(grads, model.trainable_variables))
"""


def test_layers_that_drop_unless_training_is_false_are_not_inference_mode():
    # `training is not False`: None (a call without training=) means training.
    assert lint(_GATED.format(extra="")) == []
    # A real Dropout next to it still does not drop under None.
    assert [c for _, c in lint(_GATED.format(extra=", keras.layers.Dropout(0.2)"))] == ["KM101"]
    # `if training:` is the usual gate: None means inference.
    assert [c for _, c in lint(_GATED.format(extra="").replace("training is not False", "training"))] == ["KM101"]


_PHASE = """
model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.5), keras.layers.Dense(1)])
keras.backend.set_learning_phase({phase})
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(model(x))
grads = tape.gradient(loss, model.trainable_variables)
opt.apply_gradients(zip(grads, model.trainable_variables))
"""


@pytest.mark.parametrize("phase, version, flagged", [
    ("1", "2", False), ("True", "2", False),  # Keras 2: the global phase is training
    ("0", "2", True),
    ("1", "3", True),  # Keras 3 has no learning phase (KM401: AttributeError)
])
def test_keras2_learning_phase_one_puts_tape_calls_in_training_mode(phase, version, flagged):
    """Found by the differential run: under tf_keras, after
    `set_learning_phase(1)` the bare call's Dropout drops, so the message
    "runs in inference mode: its Dropout does not drop" was false."""
    assert bool(lint(_PHASE.format(phase=phase), version)) is flagged


PINNED_DROPOUT = """
inputs = keras.Input((8,))
h = keras.layers.Dense(16)(inputs)
h = keras.layers.BatchNormalization()(h)
h = keras.layers.Dropout(0.5)(h, training=True)
model = keras.Model(inputs, keras.layers.Dense(3)(h))


def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
"""


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_a_dropout_node_pinned_to_true_is_not_said_to_be_off(version):
    # a call without training= leaves the node's own pin in force in every
    # version (measured by the differential run; 3.0-3.15 override a pin only
    # with an explicit outer True/False)
    brief = "(BatchNorm frozen)"
    from kerasmode_lint import lint_source

    found = [d for d in lint_source(HEADER + PINNED_DROPOUT, "x.py", keras_version=version) if d.code == "KM101"]
    assert len(found) == 1 and brief in found[0].message


def test_a_model_whose_every_mode_layer_is_pinned_is_silent_where_pins_hold():
    src = PINNED_DROPOUT.replace("keras.layers.BatchNormalization()(h)", "keras.layers.BatchNormalization()(h, training=False)")
    assert [c for _, c in lint(src, "2")] == [] and [c for _, c in lint(src, "3.16")] == []
