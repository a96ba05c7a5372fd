"""A small training script with two deliberate mode mistakes, traced by
tests/test_trace.py under Keras 3 and tf_keras: a custom training step that
calls the model without `training=True` (KM101), and a frozen base holding
Dropout used as a functional node without `training=False` (KM201). The fit,
the predict and the direct call are right. Seeded: it prints a hash of the
final weights (the tracer must not change them) and exits with the code
given as its first argument (the tracer must keep it). It also saves the
models and runs a tf.data pipeline, which the tracer must not break."""
import hashlib
import os
import shutil
import sys
import tempfile

import numpy as np
import tensorflow as tf

keras = tf.keras
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = (10.0 + rng.standard_normal((32, 4))).astype("float32")
y = rng.standard_normal((32, 1)).astype("float32")


def build(name):
    inputs = keras.Input(shape=(4,))
    h = keras.layers.Dense(8, activation="tanh")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Dropout(0.5, name="drop")(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h), name=name)


model = build("net")
model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
model.fit(x, y, batch_size=16, epochs=1, verbose=0)
model.predict(x, batch_size=16, verbose=0)
optimizer = keras.optimizers.SGD(0.01)


@tf.function
def train_step(xb, yb):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(xb) - yb) ** 2)  # the mistake: no training=True
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))


for start in (0, 16, 0):
    train_step(x[start:start + 16], y[start:start + 16])
model(x[:4])

base = build("base")
base.trainable = False
inputs = keras.Input(shape=(4,))
outputs = keras.layers.Dense(1)(base(inputs))  # the mistake: no training=False
classifier = keras.Model(inputs, outputs, name="classifier")
classifier.compile(optimizer="sgd", loss="mse")
classifier.fit(x, y, batch_size=16, epochs=1, verbose=0)

# Saving and tf.data pipelines must work as untraced: a SavedModel may not
# reference the tracer's counter, a dataset function gets no counting op.
saved = tempfile.mkdtemp()
model.export(os.path.join(saved, "net"))  # both flavours have it (an ExportArchive)
tf.saved_model.save(classifier, os.path.join(saved, "classifier"))
noise = keras.layers.GaussianNoise(0.1)
batches = list(tf.data.Dataset.from_tensor_slices(x).batch(16).map(lambda b: noise(b, training=True)))
shutil.rmtree(saved)

digest = hashlib.sha256()
for weight in model.weights + classifier.weights:
    digest.update(np.asarray(weight.numpy()).tobytes())
print("weights", digest.hexdigest(), "argv", sys.argv[1:])
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
