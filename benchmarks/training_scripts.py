"""Synthetic Keras training scripts, the code users' repositories are full of.

    python benchmarks/training_scripts.py OUT_DIR [--scripts 300] [--seed 0]
    python benchmarks/training_scripts.py --one-file OUT.py --lines 50000

Each script is drawn from a seeded random generator: imports, a few layer
classes (some forwarding ``training``, some not), model builders with Dropout,
BatchNormalization and pretrained bases, a transfer-learning recipe that
freezes and unfreezes a base around ``compile``/``fit``, a GAN-style freeze, a
``tf.GradientTape`` loop (with and without ``training=``), a ``train_step``
override, evaluation helpers and plain data code. So the rules have real work
on every script, and some of them find something. ``--one-file`` concatenates
scripts (each with its own names, as a notebook exported to one file or a
long experiment log would read) until the file has at least ``--lines`` lines.
"""
from __future__ import annotations

import argparse
import os
import random

IMPORTS = """\
import os
import numpy as np
import tensorflow as tf
import keras
from keras import layers
"""

LAYER = """\

class {name}(keras.layers.Layer):
    def __init__(self, units={units}, rate={rate}, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units, activation="{act}")
        self.norm = layers.{norm}()
        self.drop = layers.Dropout(rate)

    def call(self, inputs{signature}):
        x = self.dense(inputs)
        x = self.norm(x{forward})
        return self.drop(x{forward})
"""

BUILDER = """\

def build_{name}(input_shape=({dim},), classes={classes}):
    inputs = keras.Input(shape=input_shape)
    x = layers.Dense({units}, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout({rate})(x)
{extra}    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="{name}")
"""

SEQUENTIAL = """\

{name} = keras.Sequential([
    layers.Input(shape=({dim},)),
    layers.Dense({units}, activation="relu"),
    layers.Dropout({rate}),
    {layer}(units={units}),
    layers.Dense({classes}),
])
{name}.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""

TRANSFER = """\

def finetune_{name}(train_ds, val_ds, epochs={epochs}):
    base_{name} = keras.applications.{app}(include_top=False, weights=None, input_shape=(96, 96, 3))
    base_{name}.trainable = False
    inputs = keras.Input(shape=(96, 96, 3))
    x = base_{name}(inputs{base_flag})
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout({rate})(x)
    outputs = layers.Dense({classes})(x)
    model_{name} = keras.Model(inputs, outputs)
    model_{name}.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model_{name}.fit(train_ds, validation_data=val_ds, epochs=epochs)
    base_{name}.trainable = True
{recompile}    model_{name}.fit(train_ds, validation_data=val_ds, epochs=epochs)
    return model_{name}
"""

GAN = """\

def make_gan_{name}(latent_dim={dim}):
    generator_{name} = build_{builder}(input_shape=(latent_dim,), classes={dim})
    discriminator_{name} = build_{builder}(input_shape=({dim},), classes=1)
    discriminator_{name}.compile(optimizer="adam", loss="binary_crossentropy")
    discriminator_{name}.trainable = False
    z = keras.Input(shape=(latent_dim,))
    gan_{name} = keras.Model(z, discriminator_{name}(generator_{name}(z)))
    gan_{name}.compile(optimizer="adam", loss="binary_crossentropy")
    return generator_{name}, discriminator_{name}, gan_{name}
"""

TAPE = """\

optimizer_{name} = keras.optimizers.Adam(learning_rate={lr})
loss_fn_{name} = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
model_{name} = build_{builder}()


@tf.function
def train_step_{name}(x, y):
    with tf.GradientTape() as tape:
        logits = model_{name}(x{tape_flag})
        loss = loss_fn_{name}(y, logits)
    grads = tape.gradient(loss, model_{name}.trainable_variables)
    optimizer_{name}.apply_gradients(zip(grads, model_{name}.trainable_variables))
    return loss


def train_loop_{name}(dataset, epochs={epochs}):
    history = []
    for epoch in range(epochs):
        total = 0.0
        for step, (x, y) in enumerate(dataset):
            loss = train_step_{name}(x, y)
            total += float(loss)
            if step % {log_every} == 0:
                print("epoch", epoch, "step", step, "loss", total / (step + 1))
        history.append(total)
    return history
"""

CUSTOM_MODEL = """\

class {name}Model(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.body = build_{builder}()
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self.body(x{step_flag})
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {{"loss": self.loss_tracker.result()}}

    def test_step(self, data):
        x, y = data
        y_pred = self.body(x, training=False)
        return {{"loss": self.compute_loss(y=y, y_pred=y_pred)}}
"""

EVALUATE = """\

def evaluate_{name}(model, dataset):
    correct = 0
    seen = 0
    for x, y in dataset:
        predictions = model(x{eval_flag})
        correct += int(np.sum(np.argmax(predictions, axis=-1) == y))
        seen += len(y)
    return correct / max(seen, 1)


def mc_predict_{name}(model, x, samples={samples}):
    return np.stack([model(x, training=True) for _ in range(samples)]).mean(axis=0)
"""

DATA = """\

def load_{name}(path="data_{name}.npz", batch_size={batch}):
    arrays = np.load(path)
    features = arrays["x"].astype("float32") / 255.0
    labels = arrays["y"].astype("int64")
    dataset = tf.data.Dataset.from_tensor_slices((features, labels))
    dataset = dataset.shuffle({shuffle}).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return dataset


def summarise_{name}(history):
    best = min(history) if history else None
    lines = []
    for index, value in enumerate(history):
        lines.append("%d: %.4f" % (index, value))
    return best, "\\n".join(lines)
"""

MAIN = """\

if __name__ == "__main__":
    train_{name} = load_{name}()
    val_{name} = load_{name}("val_{name}.npz")
    history_{name} = train_loop_{name}(train_{name})
    print(summarise_{name}(history_{name}))
    print(evaluate_{name}(model_{name}, val_{name}))
    custom_{name} = {name}Model()
    custom_{name}.compile(optimizer="adam", loss="mse")
    custom_{name}.fit(train_{name}, epochs={epochs})
    finetune_{name}(train_{name}, val_{name})
"""

APPS = ["MobileNetV2", "ResNet50", "EfficientNetB0", "DenseNet121", "Xception"]


def script(rng: random.Random, tag: str, with_imports: bool = True) -> str:
    """One training script; every name it defines ends with ``tag``."""
    def pick(*options):
        return rng.choice(options)

    parts = [IMPORTS] if with_imports else []
    layer = f"Block{tag}"
    forwards = rng.random() < 0.7
    parts.append(LAYER.format(
        name=layer, units=pick(32, 64, 128), rate=pick(0.1, 0.2, 0.3), act=pick("relu", "gelu"),
        norm=pick("BatchNormalization", "LayerNormalization"),
        signature=", training=None" if forwards else "",
        forward=", training=training" if forwards else ""))
    builder = f"mlp{tag}"
    extra = "".join(
        f"    x = layers.Dense({pick(64, 128, 256)}, activation=\"relu\")(x)\n"
        f"    x = {layer}()(x)\n" for _ in range(rng.randint(0, 3)))
    parts.append(BUILDER.format(name=builder, dim=pick(16, 32, 784), classes=pick(2, 10, 100),
                                units=pick(64, 128, 256), rate=pick(0.2, 0.5), extra=extra))
    parts.append(SEQUENTIAL.format(name=f"seq{tag}", dim=pick(8, 16), units=pick(32, 64),
                                   rate=pick(0.1, 0.3), layer=layer, classes=pick(2, 10)))
    parts.append(TRANSFER.format(
        name=tag, epochs=pick(1, 5, 10), app=pick(*APPS), rate=pick(0.2, 0.5), classes=pick(2, 10),
        base_flag=pick(", training=False", ""),
        recompile=pick("    model_{0}.compile(optimizer=keras.optimizers.Adam(1e-5), loss=\"mse\")\n".format(tag), "")))
    if rng.random() < 0.5:
        parts.append(GAN.format(name=tag, dim=pick(32, 64, 128), builder=builder))
    parts.append(TAPE.format(name=tag, lr=pick("1e-3", "3e-4"), builder=builder,
                             tape_flag=pick(", training=True", ""), epochs=pick(1, 3, 10),
                             log_every=pick(10, 50, 100)))
    parts.append(CUSTOM_MODEL.format(name=tag, builder=builder, step_flag=pick(", training=True", "")))
    parts.append(EVALUATE.format(name=tag, eval_flag=pick(", training=False", "", ", training=True"),
                                 samples=pick(10, 20, 50)))
    parts.append(DATA.format(name=tag, batch=pick(32, 64, 128), shuffle=pick(1000, 10000)))
    parts.append(MAIN.format(name=tag, epochs=pick(1, 2, 5)))
    return "".join(parts)


def scripts(count: int, seed: int = 0):
    rng = random.Random(seed)
    return [script(rng, f"_{index}") for index in range(count)]


def one_file(lines: int, seed: int = 0) -> str:
    """Scripts concatenated until the text has at least ``lines`` lines."""
    rng = random.Random(seed)
    chunks = [IMPORTS]
    total = IMPORTS.count("\n")
    index = 0
    while total < lines:
        chunk = script(rng, f"_{index}", with_imports=False)
        chunks.append(chunk)
        total += chunk.count("\n")
        index += 1
    return "".join(chunks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?")
    parser.add_argument("--scripts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one-file")
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args(argv)
    if args.one_file:
        with open(args.one_file, "w") as handle:
            handle.write(one_file(args.lines, args.seed))
        return 0
    os.makedirs(args.out, exist_ok=True)
    for index, text in enumerate(scripts(args.scripts, args.seed)):
        with open(os.path.join(args.out, f"train_{index:03d}.py"), "w") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
