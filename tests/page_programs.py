"""The rule pages' Example and Fix blocks as small programs that run under
real TensorFlow and report what they did (tests/test_page_examples.py).

Each program is: a prelude (tiny data, stand-ins for what a page leaves to the
reader, such as ``train_ds`` or ``build_discriminator``, and spies that count
what Dropout and ``fit``/``train_on_batch`` did), the page's block run inside
``try`` (a block may raise, which is what some pages say), and the page's
driver, which calls what the block defined and ends with ``observe.report``.
Spies patch the Keras classes (``Dropout.call``, ``Model.fit``) before the
block, so the block's own layers are observed without being edited.
"""
import re
import textwrap
from pathlib import Path

PAGES = Path(__file__).resolve().parent.parent / "rules"

PRELUDE = textwrap.dedent('''\
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    import observe

    keras.utils.set_random_seed(0)
    ON_TENSORFLOW = observe.flavour() in ("k3", "tfk")


    def tiny_base(pooled=False, shape=None):
        """A stand-in for a keras.applications model: conv, BN, Dropout."""
        layers = [keras.Input(shape)] if shape else []
        layers += [keras.layers.Conv2D(4, 3, strides=8), keras.layers.BatchNormalization(),
                   keras.layers.Dropout(0.5)]
        if pooled:
            layers.append(keras.layers.GlobalAveragePooling2D())
        return keras.Sequential(layers)


    def images(height, width, classes=2):
        x = observe.inputs(4, height, width, 3)
        y = observe.labels(4, classes).astype("float32")
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(2)


    x = x_test = observe.inputs(4, 16)
    y = observe.labels(4, 3)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
    x_img, y_img = observe.inputs(4, 32, 32, 3), observe.labels(4, 2).astype("float32")

    # Dropout spy (TensorFlow flavours): counts outputs zeroed where the input
    # was not, in eager and graph code alike.
    DROPPED = tf.Variable(0, dtype=tf.int64, trainable=False)
    if ON_TENSORFLOW:
        _dropout_call = keras.layers.Dropout.call

        def _spied_dropout_call(self, inputs, training=None):
            outputs = _dropout_call(self, inputs, training=training)
            zeroed = tf.logical_and(tf.not_equal(inputs, 0), tf.equal(outputs, 0))
            DROPPED.assign_add(tf.math.count_nonzero(zeroed))
            return outputs

        keras.layers.Dropout.call = _spied_dropout_call


    def dropout_state():
        """'drop' if any Dropout dropped since the last call, else 'keep'."""
        state = "drop" if int(DROPPED.numpy()) else "keep"
        DROPPED.assign(0)
        return state


    def bn_layers(model):
        """Every BatchNormalization inside ``model`` (also in custom layers)."""
        return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


    def bn_state(model):
        """'updated' if a BatchNormalization of the model has moving statistics
        (they start at 0; the data is centred on 10), else 'frozen'."""
        moved = [np.any(observe.moving_mean(bn) != 0) for bn in bn_layers(model)]
        return "updated" if any(moved) else "frozen"


    def plain_weights(model):
        """The weights of a model's layers other than BatchNormalization."""
        return [np.array(w) for layer in model.layers
                if not isinstance(layer, keras.layers.BatchNormalization) for w in layer.weights]


    # Training-call spy: which watched model changed during each call.
    WATCH = {}  # label -> a function returning that model's snapshot
    CHANGES = []  # (method, model label, "changed" / "unchanged") per call and watched model


    def _spied(method):
        original = getattr(keras.Model, method)

        def spied(self, *args, **kwargs):
            before = {label: take() for label, take in WATCH.items()}
            result = original(self, *args, **kwargs)
            for label, take in WATCH.items():
                after = take()
                same = len(before[label]) == len(after) and all(
                    np.array_equal(b, a) for b, a in zip(before[label], after))
                CHANGES.append((method, self.name, label, "unchanged" if same else "changed"))
            return result

        setattr(keras.Model, method, spied)


    for _method in ("fit", "train_on_batch"):
        _spied(_method)
''')


def page_blocks(code):
    """(heading, index, block) of the page's Example and Fix sections."""
    text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    found = []
    for heading in ("Example", "Fix"):
        match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        found += [(heading, i, b) for i, b in enumerate(re.findall(r"```python\n(.*?)```", match.group(1), re.S))]
    return found


def with_stand_ins(block):
    """Tiny stand-ins for pretrained applications and long runs."""
    def application(match):
        args = match.group(1)
        pooled = "pooling=" in args
        return f"tiny_base(pooled={pooled}, shape=(32, 32, 3))" if pooled else "tiny_base()"

    block = re.sub(r"(?:tf\.)?keras\.applications\.\w+\(([^)]*)\)", application, block)
    block = re.sub(r"epochs=\d+", "epochs=1", block)
    return block.replace("range(100)", "range(5)")


def program(block, setup, driver):
    """PRELUDE, the page's setup, the block in ``try`` (``raised`` names what
    it raised, or "nothing"), then the driver."""
    body = textwrap.indent(with_stand_ins(block), "    ")
    return (PRELUDE + textwrap.dedent(setup) + "\ntry:\n" + body + textwrap.dedent('''
        except Exception as exc:  # what the block raised is an observation
            raised = type(exc).__name__
        else:
            raised = "nothing"
    ''') + textwrap.dedent(driver))
