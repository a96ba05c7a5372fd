"""KM103 evaluation-with-training-true: flagged forms and the look-alikes it must
leave alone (MC-dropout samplers, augmentation in data pipelines, `training=`
keywords of model builders and dataset factories, training code, test files)."""
import textwrap

import pytest

from kerasmode_lint import lint_source

HEADER = """\
import numpy as np
import tensorflow as tf
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(8), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
mc_model = keras.Sequential([keras.layers.Dense(8), keras.layers.Dropout(0.3), keras.layers.Dense(1)])
dense_model = keras.Sequential([keras.layers.Dense(8), keras.layers.Dense(1)])
"""
FIRST = 7  # first line of the body


def lint(body, version="3", filename="example.py"):
    src = HEADER + textwrap.dedent(body)
    diags = lint_source(src, filename, keras_version=version)
    return [(d.line - FIRST + 1, d.code) for d in diags if d.code == "KM103"]


# --- flagged ------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2", "3", "3.16"])
@pytest.mark.parametrize("step", ["test_step", "predict_step"])
def test_steps(step, version):
    src = f"""\
    class M(keras.Model):
        def {step}(self, data):
            x, y = data
            y_pred = self(x, training=True)
            return {{"loss": 0.0}}
    """
    assert lint(src, version) == [(4, "KM103")]


def test_message_names_the_call_and_what_happens():
    src = HEADER + "class M(keras.Model):\n    def test_step(self, data):\n        return self(data, training=True)\n"
    [diag] = [d for d in lint_source(src, "x.py", keras_version="3") if d.code == "KM103"]
    assert "`self(...)` runs in training mode in `test_step`" in diag.message
    assert "use `training=False`" in diag.message
    assert "evaluate()" in diag.explanation and "self(..., training=False)" in diag.explanation


@pytest.mark.parametrize("model, effect, absent", [
    ("mc_model", "(Dropout on)", "BatchNorm"),
    ("model", "(BatchNorm stats updated)", "Dropout"),
    ("loaded", "(its layers could not be seen)", "Dropout on"),
])
def test_message_names_only_the_layers_the_model_has(model, effect, absent):
    src = HEADER + textwrap.dedent(f"""\
    loaded = keras.models.load_model("m.keras")
    def evaluate(model, dataset):
        for x, y in dataset:
            logits = model(x, training=True)
    evaluate({model}, data)
    """)
    [diag] = [d for d in lint_source(src, "x.py", keras_version="3") if d.code == "KM103"]
    assert effect in diag.message and absent not in diag.message
    assert absent not in diag.explanation.replace("any Dropout", "").replace("any BatchNorm", "")


@pytest.mark.parametrize("name", [
    "evaluate", "evaluate_model", "validate", "validation_epoch", "val_step", "test_step",
    "test", "run_inference", "infer", "predict", "predict_batch", "evalModel",
])
def test_evaluation_named_functions(name):
    src = f"""\
    def {name}(model, dataset):
        for x, y in dataset:
            logits = model(x, training=True)
    """
    assert lint(src) == [(3, "KM103")]


def test_method_of_an_evaluator_class():
    src = """\
    class Evaluator:
        def __init__(self):
            self.net = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.5)])
        def evaluate(self, x):
            return self.net(x, training=True)
    """
    assert lint(src) == [(5, "KM103")]


def test_validation_loop_in_a_training_script():
    src = """\
    for epoch in range(3):
        for x_batch, y_batch in train_dataset:
            with tf.GradientTape() as tape:
                logits = model(x_batch, training=True)
                loss = loss_fn(y_batch, logits)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
        for x_batch_val, y_batch_val in val_dataset:
            val_logits = model(x_batch_val, training=True)
            val_acc_metric.update_state(y_batch_val, val_logits)
    """
    assert lint(src) == [(9, "KM103")]


def test_mc_sampling_of_a_model_with_batchnorm():
    src = """\
    def predict_with_uncertainty(x, n=30):
        return np.stack([model(x, training=True) for _ in range(n)])
    def mc_dropout(x):
        out = []
        for i in range(10):
            out.append(model(x, training=True))
        return out
    """
    # mc_dropout is not evaluation code by its name, but a sampling loop over a
    # model with BatchNormalization moves its statistics all the same (R20).
    assert lint(src) == [(2, "KM103"), (6, "KM103")]
    diags = [d for d in lint_source(HEADER + textwrap.dedent(src), "x.py", keras_version="3")
             if d.code == "KM103"]
    assert all("BatchNorm" in d.message for d in diags)
    assert all("Monte Carlo" in d.message + d.explanation for d in diags)


def test_keras_applications_have_batchnorm_except_vgg_and_convnext():
    template = """\
    base = keras.applications.{app}(weights=None)
    def predict_uncertainty(x):
        return [base(x, training=True) for _ in range(10)]
    """
    assert lint(template.format(app="ResNet50")) == [(3, "KM103")]
    assert lint(template.format(app="VGG16")) == []
    assert lint(template.format(app="ConvNeXtTiny")) == []


# --- look-alikes ------------------------------------------------------------------

def test_mc_dropout_without_batchnorm():
    # look-alike 3 of docs/semantics.md: sampling helpers, loops and comprehensions over range().
    src = """\
    def predict_with_uncertainty(x, n=30):
        return np.stack([mc_model(x, training=True) for _ in range(n)])
    def predict_mc(x):
        preds = []
        for _ in tqdm(range(50)):
            preds.append(mc_model(x, training=True))
        return preds
    def mc_predict(x):
        return mc_model(x, training=True)
    def predict_sample(x):
        while True:
            yield mc_model(x, training=True)
    """
    assert lint(src) == []


def test_sampling_of_a_model_of_unknown_contents_is_left_alone():
    src = """\
    loaded = keras.models.load_model("m.keras")
    def predict_with_uncertainty(x):
        return [loaded(x, training=True) for _ in range(20)]
    """
    assert lint(src) == []


def test_augmentation_in_data_pipelines():
    # look-alike 5 of docs/semantics.md.
    src = """\
    data_augmentation = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
    transforms = keras.Sequential([keras.layers.RandomFlip(), keras.layers.Rescaling(1 / 255)])
    flip = keras.layers.RandomFlip()
    def prepare_test_set(ds):
        return ds.map(lambda x, y: (data_augmentation(x, training=True), y))
    def predict_tta(images):
        views = [transforms(images, training=True) for _ in range(4)]
        return [model(v, training=False) for v in views]
    def test_time_augmentation(images):
        return model(flip(images, training=True), training=False)
    def evaluate_augmented(images):
        return model(augmenter(images, training=True), training=False)
    """
    assert lint(src) == []


@pytest.mark.parametrize("call", [
    "YoloV3(size=416, classes=80, training=True)",  # model builder
    "FrameGenerator(path, n_frames, training=True)",  # dataset factory
    "input_fn(training=True)",
    "build_metrics(training=True)",
    "make_dataset(path, training=True)",
    "get_model(config, training=True)",
    "load_split(path, training=True)",
    "create_generator(files, training=True)",
    "self.input_fn(path, training=True)",
    "val_loader(path, training=True)",
    "dataset_fn(path, training=True)",
])
def test_training_keyword_of_non_keras_functions(call):
    # look-alike 7 of docs/semantics.md.
    src = f"""\
    def evaluate(path, n_frames, files, config):
        data = {call}
        return data
    """
    assert lint(src) == []


def test_imported_and_locally_defined_functions_are_not_models():
    src = """\
    from mylib.data import pipeline
    import mylib.models as zoo
    def helper(x, training=False):
        return x
    def evaluate(x):
        a = pipeline(x, training=True)
        b = zoo.resnet(x, training=True)
        c = helper(x, training=True)
        d = tf.image.random_flip_left_right(x, training=True)
        return a, b, c, d
    """
    assert lint(src) == []


def test_graph_nodes_are_not_evaluation_code():
    src = """\
    def build_for_test():
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dropout(0.5)(inputs, training=True))
    """
    assert lint(src) == []


def test_training_code_is_not_evaluation_code():
    src = """\
    def test_step_and_train(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    def validate_and_update(x):
        out = model(x, training=True)
        loss = out.mean()
        loss.backward()
    def train(x):
        return model(x, training=True)
    """
    assert lint(src) == []


def test_training_false_and_other_values():
    src = """\
    def evaluate(x, training):
        a = model(x, training=False)
        b = model(x, training=training)
        c = model(x)
        return a, b, c
    """
    assert lint(src) == []


def test_model_without_mode_dependent_layers():
    src = """\
    def evaluate(x):
        return dense_model(x, training=True)
    """
    assert lint(src) == []


def test_test_files_and_test_classes_are_not_evaluation_code():
    src = """\
    class DropoutTest(testing.TestCase):
        def test_dropout_in_training(self):
            layer = keras.layers.Dropout(0.5)
            outputs = layer(inputs, training=True)
            for x in test_inputs:
                y = layer(x, training=True)
    def test_predict(self):
        return model(x, training=True)
    """
    assert lint(src) == [(8, "KM103")]  # only the module-level function in a non-test file
    assert lint(src, filename="tests/test_layers.py") == []
    assert lint(src, filename="layers/dropout_test.py") == []


def test_steps_of_test_files_still_count():
    src = """\
    class M(keras.Model):
        def test_step(self, data):
            return self(data, training=True)
    """
    assert lint(src, filename="model_test.py") == [(3, "KM103")]


def test_unrelated_loops_and_functions():
    src = """\
    for x, y in train_ds:
        logits = model(x, training=True)
    def forward(x):
        return model(x, training=True)
    preds = model(x_test, training=True)
    """
    # The module-level call on test data is inference code: reported since R20.
    assert lint(src) == [(5, "KM103")]
    assert lint(src.replace("model(x_test", "dense_model(x_test")) == []


def test_noqa():
    src = """\
    def evaluate(x):
        return model(x, training=True)  # noqa: KM103
    """
    assert lint(src) == []


def test_a_with_and_without_dropout_comparison_is_deliberate():
    # The same validation data run with training=True and then training=False:
    # a lesson measuring what dropout does, not an evaluation mistake.
    src = """
    network = keras.Sequential([keras.layers.Dense(8), keras.layers.Dropout(0.5)])

    def evaluate():
        correct_drop = correct = 0
        for x, y in ds_val:
            correct_drop += accuracy(network(x, training=True), y)
        for x, y in ds_val:
            correct += accuracy(network(x, training=False), y)
        return correct_drop, correct
    """
    assert lint(src) == []
    one_way = src.replace("network(x, training=False)", "other(x, training=False)")
    assert [c for _, c in lint(one_way)] == ["KM103"]


# --- inference code outside evaluation-named functions (R20) ------------------------

def test_validation_block_at_module_level():
    src = """\
    model.fit(x_train, y_train)
    val_logits = model(x_val, training=True)
    scores = model(features, training=True)
    """
    [(line, code)] = lint(src)
    assert (line, code) == (2, "KM103")
    [diag] = [d for d in lint_source(HEADER + textwrap.dedent(src), "x.py", keras_version="2")
              if d.code == "KM103"]
    assert "on validation or test data" in diag.message and len(diag.message) <= 120


def test_unknown_model_on_validation_data_and_discarded_results_are_left_alone():
    src = """\
    restored = keras.models.load_model("m.keras")
    val_logits = restored(x_val, training=True)
    for batch in target_ds:
        model(batch, training=True)  # re-estimates BN statistics on purpose
    """
    assert lint(src) == []


def test_mc_sampling_comprehension_at_module_level():
    src = """\
    samples = np.stack([model(x, training=True) for _ in range(10)])
    mc_samples = np.stack([mc_model(x, training=True) for _ in range(10)])
    """
    # Dropout-only MC dropout is deliberate; the model with BatchNormalization is not.
    assert lint(src) == [(1, "KM103")]


GRADCAM = """\
def gradcam(img):
    with tf.GradientTape() as tape:
        tape.watch(img)
        preds = model(img, training=True)
        score = preds[:, 0]
    return tape.gradient(score, img)
"""


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_gradcam_tape_with_training_true(version):
    assert lint(GRADCAM, version) == [(4, "KM103")]


@pytest.mark.parametrize("change", [
    ("return tape.gradient(score, img)", "return tape.gradient(score, model.trainable_variables)"),
    ("return tape.gradient(score, img)", "opt.apply_gradients(zip(tape.gradient(score, img), [img]))"),
    ("return tape.gradient(score, img)", "return tape"),
    ("preds = model(img", "preds = dense_model(img"),
])
def test_tapes_that_train_or_models_without_modes(change):
    assert lint(GRADCAM.replace(*change)) == []


def test_train_step_and_call_are_not_inference_code():
    src = """\
    class Net(keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
            return {}

        def call(self, x, training=None):
            return [self.inner(x, training=True) for _ in range(3)]
    """
    assert lint(src) == []


def _messages(body):
    src = HEADER + textwrap.dedent(body)
    # The message names the layers in brief; the explanation tells what they do.
    return [d.message + "\n" + d.explanation
            for d in lint_source(src, "example.py", keras_version="3") if d.code == "KM103"]


def test_message_names_only_the_layers_the_model_holds():
    """Found by the differential run (docs/differential.md): the message said
    "Dropout drops and BatchNormalization ... updates its moving statistics"
    for a model holding only Dropout, passed to an evaluation function."""
    (dropout_only,) = _messages("""\
    def validation_accuracy(m, xs):
        return m(xs, training=True)

    acc = validation_accuracy(mc_model, np.ones((2, 4)))
    """)
    assert "its Dropout drops" in dropout_only and "BatchNormalization" not in dropout_only
    assert "evaluating changes the model" not in dropout_only
    (bn_only,) = _messages("""\
    def evaluate_model(xs):
        return model(xs, training=True)
    """)
    assert "overwrites its moving statistics" in bn_only and "Dropout" not in bn_only
    assert "evaluating changes the model" in bn_only


def test_message_is_conditional_when_the_model_is_unseen():
    (unseen,) = _messages("""\
    def evaluate_model(net, xs):
        return net(xs, training=True)
    """)
    assert "could not be seen" in unseen and "would drop" in unseen and "may change" in unseen


def test_a_gradient_penalty_tape_called_from_train_step_is_training_code():
    # WGAN-GP: the penalty's tape takes gradients w.r.t. interpolated inputs and
    # trains nothing itself, but it is part of the discriminator's training loss.
    src = """\
    class WGAN(keras.Model):
        def train_step(self, real):
            with tf.GradientTape() as tape:
                loss = self.d_loss(real)
            grads = tape.gradient(loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
            return {"d_loss": loss}

        def d_loss(self, real):
            return tf.reduce_mean(self.discriminator(real, training=True)) + self.penalty(real)

        def penalty(self, interpolated):
            with tf.GradientTape() as gp_tape:
                gp_tape.watch(interpolated)
                pred = self.discriminator(interpolated, training=True)
            grads = gp_tape.gradient(pred, [interpolated])[0]
            return tf.reduce_mean((tf.norm(grads) - 1.0) ** 2)
    """
    assert lint(src) == []
    alone = src.replace("+ self.penalty(real)", "")
    assert lint(alone) == [(15, "KM103")]


def test_one_layer_called_with_training_true_is_a_demonstration():
    # A Dropout used to corrupt validation images, a lone BatchNormalization in
    # a Jacobian demo: training=True on one layer is what the code wants.
    src = """\
    noise = keras.layers.Dropout(0.5)
    corrupted = noise(x_valid, training=True)
    bn = keras.layers.BatchNormalization()
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = bn(x, training=True)
    j = tape.jacobian(y, x)
    """
    assert lint(src) == []


def test_mc_sampling_reads_the_model_that_reaches_the_call():
    # A notebook: a model with BatchNormalization first, then a Dropout-only one
    # sampled with MC dropout: the sampled model has no BatchNormalization.
    src = """\
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization()])
    model.fit(x, y)
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.2), keras.layers.Dense(1)])
    model.fit(x, y)
    probas = np.stack([model(x_test, training=True) for _ in range(10)])
    """
    assert lint(src) == []
    assert lint(src.replace("keras.layers.Dropout(0.2)", "keras.layers.BatchNormalization()")) == [(5, "KM103")]


# --- a model whose nodes pin their own mode -------------------------------------------

PINNED = """\
inputs = keras.Input((8,))
h = keras.layers.Dense(16, activation="tanh")(inputs)
h = keras.layers.Dropout(0.5)(h, {pin})
outputs = keras.layers.Dense(3)(h)
pinned = keras.Model(inputs, outputs)


def validation_accuracy(m, xs, ys):
    logits = m(xs, training=True)
    return float(np.mean(np.argmax(logits, axis=-1) == ys))


acc = validation_accuracy(pinned, x_val, y_val)
"""


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_a_dropout_node_pinned_to_true_drops_whatever_the_call_says(version):
    # MC dropout built into the graph: training=True on the whole changes nothing
    assert lint(PINNED.format(pin="training=True"), version) == []


def test_a_node_pinned_to_false_holds_in_keras2_and_316_not_in_315():
    src = PINNED.format(pin="training=False")
    assert lint(src, "2") == [] and lint(src, "3.16") == []
    assert lint(src, "3") == [(9, "KM103")]  # Keras 3.0-3.15: the outer True overrides the pin


def test_an_unpinned_node_beside_a_pinned_one_is_still_flagged():
    src = PINNED.format(pin="training=True").replace(
        "outputs = keras.layers.Dense(3)(h)", "outputs = keras.layers.Dense(3)(keras.layers.BatchNormalization()(h))")
    assert lint(src, "2") == [(9, "KM103")]


def test_sampling_over_a_backbone_pinned_to_inference_where_the_pin_holds():
    src = """\
base = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8), keras.layers.BatchNormalization(),
                         keras.layers.Dropout(0.5)])
inputs = keras.Input((8,))
clf = keras.Model(inputs, keras.layers.Dense(3)(base(inputs, training=False)))
samples = np.stack([clf(x, training=True) for _ in range(10)])
"""
    assert lint(src, "2") == [] and lint(src, "3.16") == []
    assert lint(src, "3") == [(5, "KM103")]  # 3.0-3.15: the outer True reaches the BN
