"""A seeded fit under Keras 3's JAX backend (jit-compiled train step), for
tests/test_trace.py: the tracer counts through jax.debug.callback and must
leave the weights, printed as a hash, bit for bit the same."""
import hashlib
import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402

keras.utils.set_random_seed(0)
x = (10.0 + np.random.default_rng(0).standard_normal((32, 4))).astype("float32")
y = np.random.default_rng(1).standard_normal((32, 1)).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.BatchNormalization(name="bn"),
                          keras.layers.Dropout(0.5, name="drop"), keras.layers.Dense(1)], name="m")
model.compile(optimizer="sgd", loss="mse")
model.fit(x, y, batch_size=16, epochs=2, verbose=0)
model.predict(x, batch_size=16, verbose=0)
digest = hashlib.sha256()
for weight in model.weights:
    digest.update(np.asarray(weight.numpy()).tobytes())
print("weights", digest.hexdigest())
