"""KM102 train-step-without-training: flagged forms and the look-alikes it must
leave alone (frozen teachers, EMA models, target networks, guarded library code)."""
import textwrap

import pytest

from helpers import codes, findings
from kerasmode_lint import lint_source

HEADER = """\
import tensorflow as tf
from tensorflow import keras
"""


def lint(body, version="3"):
    src = HEADER + textwrap.dedent(body)
    return [(line, code) for line, code in findings(src, version) if code == "KM102"]


TF_STEP = """
class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = {call}
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {{"loss": loss}}
"""


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_self_call_in_tape(version):
    assert lint(TF_STEP.format(call="self(x)"), version) == [(8, "KM102")]


@pytest.mark.parametrize("call", [
    "self(x, training=True)", "self(x, training=False)", "self(x, training=training)",
    "self(x, **kwargs)",
])
def test_explicit_training_silences(call):
    assert lint(TF_STEP.format(call=call)) == []


def test_message_names_the_call_and_the_fix():
    src = HEADER + textwrap.dedent(TF_STEP.format(call="self(x)"))
    [diag] = [d for d in lint_source(src, "x.py", keras_version="3") if d.code == "KM102"]
    assert "`self(...)` in `train_step` runs in inference mode" in diag.message
    assert "pass `training=True`" in diag.message
    assert "fit()" in diag.explanation and "BatchNormalization" in diag.explanation


def test_alias_spellings():
    src = """
    import tensorflow as T
    from tensorflow import GradientTape
    from tensorflow.keras import Model
    class M(Model):
        def train_step(self, data):
            with GradientTape() as tape:
                out = self(data[0])
            tv = self.trainable_weights
            g = tape.gradient(out, tv)
            self.optimizer.apply(g, tv)
    """
    assert lint(src) == [(10, "KM102")]


def test_torch_style_step_without_tape():
    src = """
    class M(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            self.optimizer.apply(gradients, trainable_weights)
    """
    assert lint(src) == [(8, "KM102")]


def test_jax_style_stateless_call():
    src = """
    class M(keras.Model):
        def train_step(self, state, data):
            trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
            x, y = data
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x)
            grads = grad_fn(trainable_variables)
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables)
    """
    assert lint(src) == [(8, "KM102")]
    assert lint(src.replace("x)\n", "x, training=True)\n")) == []


def test_sub_models_trained_explicitly():
    src = """
    class VAE(keras.Model):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder = encoder
            self.decoder = decoder
        def train_step(self, data):
            with tf.GradientTape() as tape:
                z = self.encoder(data)
                rec = self.decoder(z)
                loss = tf.reduce_mean(tf.square(rec - data))
            params = self.encoder.trainable_weights + self.decoder.trainable_weights
            grads = tape.gradient(loss, params)
            self.optimizer.apply_gradients(zip(grads, params))
    """
    assert lint(src) == [(11, "KM102"), (12, "KM102")]


def test_sub_layers_trained_through_self():
    src = """
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.encoder = keras.Sequential([keras.layers.Dense(8), keras.layers.BatchNormalization()])
            self.dropout = keras.layers.Dropout(0.5)
            self.dense = keras.layers.Dense(1)
            self.backbone = keras.applications.ResNet50(weights=None)
            self.backbone.trainable = False
            self.passed_in = make_head()
        def train_step(self, data):
            with tf.GradientTape() as tape:
                h = self.encoder(data)
                h = self.dropout(h)
                f = self.backbone(data)
                out = self.dense(h) + self.passed_in(f)
                loss = self.compute_loss(y=data, y_pred=out)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
    """
    # Dense (no training behaviour), the frozen backbone and an unknown head are left alone.
    assert lint(src) == [(15, "KM102"), (16, "KM102")]


def test_gan_each_tape_trains_its_own_model():
    # keras.io DCGAN "overriding train_step": D is trained in the first tape and
    # only used in the second; G is called outside any tape in the first step.
    src = """
    class GAN(keras.Model):
        def __init__(self, discriminator, generator):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
        def train_step(self, real_images):
            generated_images = self.generator(random_latent_vectors)
            with tf.GradientTape() as tape:
                predictions = self.discriminator(combined_images)
                d_loss = self.loss_fn(labels, predictions)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
            with tf.GradientTape() as tape:
                predictions = self.discriminator(self.generator(random_latent_vectors))
                g_loss = self.loss_fn(misleading_labels, predictions)
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
    """
    assert lint(src) == [(12, "KM102"), (17, "KM102")]


# --- look-alikes ---------------------------------------------------------------------

def test_frozen_teacher_with_training_false():
    src = """
    class Distiller(keras.Model):
        def train_step(self, data):
            x, y = data
            teacher_predictions = self.teacher(x, training=False)
            with tf.GradientTape() as tape:
                student_predictions = self.student(x, training=True)
                in_tape_teacher = self.teacher(x, training=False)
                loss = self.compute_loss(y=y, y_pred=student_predictions)
            grads = tape.gradient(loss, self.student.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.student.trainable_variables))
    """
    assert lint(src) == []


def test_ema_and_target_networks_not_trained():
    src = """
    class DQN(keras.Model):
        def train_step(self, data):
            obs, action, reward, next_obs = data
            next_q = self.target_network(next_obs)
            with tf.GradientTape() as tape:
                q = self.q_network(obs, training=True)
                ema_q = self.ema_network(obs)
                target_q = self.target_network(next_obs)
                loss = tf.reduce_mean(tf.square(reward + next_q - q))
            grads = tape.gradient(loss, self.q_network.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.q_network.trainable_variables))
            for t, w in zip(self.target_network.trainable_variables, self.q_network.trainable_variables):
                t.assign(0.99 * t + 0.01 * w)
    """
    assert lint(src) == []


def test_guarded_library_code():
    # look-alike 11 of docs/semantics.md: keras/src/backend/tensorflow/trainer.py
    src = """
    class TensorFlowTrainer(base_trainer.Trainer):
        def train_step(self, data):
            x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(data)
            with tf.GradientTape() as tape:
                if self._call_has_training_arg:
                    y_pred = self(x, training=True)
                else:
                    y_pred = self(x)
                loss = self._compute_loss(x=x, y=y, y_pred=y_pred)
            trainable_weights = self.trainable_weights
            gradients = tape.gradient(loss, trainable_weights)
            self.optimizer.apply_gradients(zip(gradients, trainable_weights))
    """
    assert lint(src) == []


def test_guarded_conditional_expression():
    src = TF_STEP.format(
        call="self(x, training=True) if 'training' in inspect.signature(self.call).parameters else self(x)")
    assert lint(src) == []


def test_call_outside_the_tape_of_a_tape_step():
    src = """
    class M(keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            updated_pred = self(x)
            self.compiled_metrics.update_state(y, updated_pred)
    """
    assert lint(src) == []


def test_no_optimizer_step():
    src = """
    class M(keras.Model):
        def train_step(self, data):
            with tf.GradientTape() as tape:
                y_pred = self(data)
            grads = tape.gradient(y_pred, self.trainable_variables)
            return {"grad_norm": tf.linalg.global_norm(grads)}
    """
    assert lint(src) == []


def test_dense_only_subclassed_model():
    src = """
    class M(keras.Model):
        def __init__(self):
            super().__init__()
            self.d1 = keras.layers.Dense(8, activation="relu")
            self.d2 = keras.layers.Dense(1)
        def call(self, x):
            return self.d2(self.d1(x))
        def train_step(self, data):
            with tf.GradientTape() as tape:
                y_pred = self(data[0])
                loss = self.compute_loss(y=data[1], y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
    """
    assert lint(src) == []


def test_functional_subclass_contents_come_from_where_it_is_built():
    template = """
    class CustomModel(keras.Model):
        def train_step(self, data):
            with tf.GradientTape() as tape:
                y_pred = self(data[0])
                loss = self.compute_loss(y=data[1], y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
    inputs = keras.Input(shape=(32,))
    h = keras.layers.{layer}(inputs)
    model = CustomModel(inputs, keras.layers.Dense(1)(h))
    """
    assert lint(template.format(layer="Dense(4)")) == []
    assert lint(template.format(layer="Dropout(0.5)")) == [(7, "KM102")]


def test_train_step_function_outside_a_class_is_km101s():
    src = """
    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            pred = self(x)
        grads = tape.gradient(pred, self.trainable_variables)
        optimizer.apply_gradients(zip(grads, self.trainable_variables))
    """
    assert lint(src) == []


def test_other_methods_are_not_train_step():
    src = TF_STEP.format(call="self(x)").replace("def train_step", "def custom_update")
    assert lint(src) == []


def test_km101_and_km102_never_both_report():
    src = HEADER + textwrap.dedent(TF_STEP.format(call="self(x)"))
    codes = [d.code for d in lint_source(src, "x.py", keras_version="3")]
    assert codes == ["KM102"]


def test_noqa():
    assert lint(TF_STEP.format(call="self(x)  # noqa: KM102")) == []


def test_positional_training_flag_in_train_step_is_not_missing():
    from helpers import findings

    src = '''
import tensorflow as tf
from tensorflow import keras

class Seq2Seq(keras.Model):
    def __init__(self):
        super().__init__()
        self.encoder = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.2)])

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            pred = self.encoder(x, True)
            loss = self.compiled_loss(y, pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {}
'''
    assert findings(src, "2") == []


def test_message_names_only_the_layers_of_the_called_attribute():
    from kerasmode_lint import lint_source

    src = '''
import tensorflow as tf
from tensorflow import keras

class GAN(keras.Model):
    def __init__(self):
        super().__init__()
        self.discriminator = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.3)])

    def train_step(self, data):
        with tf.GradientTape() as tape:
            score = self.discriminator(data)
            loss = tf.reduce_mean(score)
        grads = tape.gradient(loss, self.discriminator.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))
        return {}
'''
    [diag] = lint_source(src, "x.py", keras_version="3")
    assert "(Dropout off)" in diag.message and "Dropout does not drop" in diag.explanation
    assert "BatchNorm" not in diag.message + diag.explanation


GAN_PASSED_IN = '''
import tensorflow as tf
from tensorflow import keras

def build_discriminator():
    return keras.Sequential([keras.layers.Dense(8), {layer}, keras.layers.Dense(1)])

class GAN(keras.Model):
    def __init__(self, discriminator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.latent_dim = latent_dim

    def train_step(self, data):
        with tf.GradientTape() as tape:
            score = self.discriminator(data)
            loss = tf.reduce_mean(score)
        grads = tape.gradient(loss, self.discriminator.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))
        return {{}}

{instantiation}
'''


def _km102_messages(layer, instantiation):
    from kerasmode_lint import lint_source

    src = GAN_PASSED_IN.format(layer=layer, instantiation=instantiation)
    return [f"{d.message}\n{d.explanation}" for d in lint_source(src, "x.py", keras_version="3") if d.code == "KM102"]


def test_model_passed_to_the_constructor_is_read_from_the_instantiation():
    # A Dense-only discriminator has nothing that behaves differently in training.
    assert _km102_messages("keras.layers.Dense(4)", "gan = GAN(build_discriminator(), latent_dim=2)") == []
    assert _km102_messages("keras.layers.Dense(4)", "gan = GAN(discriminator=build_discriminator(), latent_dim=2)") == []
    [message] = _km102_messages("keras.layers.Dropout(0.3)", "gan = GAN(build_discriminator(), 2)")
    assert "Dropout does not drop" in message and "BatchNormalization" not in message


def test_model_passed_in_but_never_built_here_is_unknown():
    [message] = _km102_messages("keras.layers.Dense(4)", "")
    assert "(its layers could not be seen)" in message.splitlines()[0]


@pytest.mark.parametrize("bases", ["", "(object)"])
def test_train_step_of_a_plain_training_class_is_not_fits(bases):
    # A custom loop's own Trainer class: fit() never runs its train_step.
    src = f"""
    import tensorflow as tf
    from tensorflow import keras

    class Trainer{bases}:
        def __init__(self, encoder):
            self.encoder = encoder
            self.optimizer = keras.optimizers.Adam()

        def train_step(self, x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(self.encoder(x))
            grads = tape.gradient(loss, self.encoder.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.encoder.trainable_variables))
            return loss
    """
    assert "KM102" not in codes(src)


def test_model_built_from_the_files_own_layer_classes_is_seen():
    # self.dense1 = MyDense(1): a Dense subclass of this file, nothing mode-dependent.
    src = """
    import tensorflow as tf
    from tensorflow import keras

    class MyDense(keras.layers.Dense):
        pass

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = MyDense(1)

        def call(self, inputs):
            return self.dense1(inputs)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = self.compiled_loss(y, self(x))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {}

    model = keras.models.load_model("other.keras")
    """
    assert "KM102" not in codes(src)
    assert "KM102" in codes(src.replace("class MyDense(keras.layers.Dense)", "class MyDense(keras.layers.Dropout)"))
