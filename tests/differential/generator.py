"""Seeded generator of standalone Keras programs with their stated intent.

``generate(seed)`` returns a ``Program``: the source of a runnable script
(``from tensorflow import keras``, so the same text runs under Keras 3 and
tf_keras) and ``meta``, the machine-readable intent of its code following the
convention in docs/differential.md:

* ``phases``: the top-level statements that train or use a model, in order;
  each has ``name``, ``kind`` (train / infer / sample), ``lines`` (first, last
  line of its statements), ``related`` (lines of the functions, classes and
  ``trainable`` changes it runs) and ``modes`` ``{layer name: "train" |
  "infer" | "sample"}`` for every Dropout / BatchNormalization it runs, and
  ``weights`` ``{Dense name: "change" | "keep"}`` for the phases that train;
* ``layers``: ``{layer name: [lines where it is built or called]}``;
* ``family`` and ``knobs``: what was drawn, for the report.

Every layer that matters is named, so intent, observation and report agree on
names. The generator knows nothing of the linter's rules.
"""
import random
from dataclasses import dataclass, field

FAMILIES = ("fit_predict", "transfer", "custom_loop", "train_step", "mc_dropout",
            "gradcam", "gan", "learning_phase")
#: families whose programs use nothing TensorFlow-specific (run under k3jax too)
BACKEND_NEUTRAL = ("fit_predict", "transfer", "mc_dropout")


@dataclass
class Program:
    seed: int
    family: str
    source: str
    meta: dict = field(default_factory=dict)


class _Writer:
    """Lines of a program plus the bookkeeping of phases and layer lines."""

    def __init__(self):
        self.lines = []
        self.layers = {}
        self.phases = []
        self.marks = {}

    @property
    def next_line(self):
        return len(self.lines) + 1

    def add(self, text, *layers):
        for part in text.split("\n"):
            self.lines.append(part)
        for name in layers:
            self.layers.setdefault(name, []).append(self.next_line - 1)
        return self.next_line - 1

    def span(self, key, start):
        """Remember lines start..last as `key` (a function or class body)."""
        self.marks.setdefault(key, []).extend(range(start, self.next_line))

    def phase(self, name, kind, text, modes, weights=None, related=()):
        start = self.next_line
        self.add(text)
        lines = []
        for key in related:
            lines.extend(self.marks.get(key, []))
        self.phases.append({
            "name": name, "kind": kind, "lines": [start, self.next_line - 1],
            "related": sorted(set(lines)), "modes": dict(modes),
            "weights": dict(weights or {})})

    def source(self):
        return "\n".join(self.lines) + "\n"


_HEADER = """\
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.default_rng({seed})
x = rng.normal(10.0, 1.0, size=(32, 8)).astype("float32")
y = rng.integers(0, 3, size=(32,))
"""

_LOSS = "keras.losses.SparseCategoricalCrossentropy(from_logits=True)"


class _Net:
    """A model under construction: its mode-dependent layers with their pins."""

    def __init__(self, name):
        self.name = name
        self.drop = {}      # Dropout name -> pin (None, True or False)
        self.bn = {}        # BatchNormalization name -> pin
        self.dense = []     # Dense names
        self.silent = set()  # layers whose pin is "not passed" under a call(x) with no training

    def mode_dependent(self):
        return list(self.bn) + list(self.drop)


def _pin(value):
    return "" if value is None else f", training={value}"


def _backbone(w, r, name, kind, *, bn, drop, pins=True, head=0, mc_class=False):
    """Write a model `name` (Dense -> [BN] -> [Dropout] [-> Dense head]) of
    `kind` sequential / functional / subclassed; return its _Net."""
    net = _Net(name)
    d1, nb, nd, dh = f"{name}_dense", f"{name}_bn", f"{name}_drop", f"{name}_head"
    net.dense.append(d1)
    drop_pin = r.choice([None, None, True]) if (pins and drop and kind == "functional") else None
    bn_pin = r.choice([None, None, False]) if (pins and bn and kind == "functional") else None
    dropout_cls = "MCDropout" if mc_class else "layers.Dropout"
    if kind == "sequential":
        items = ["keras.Input(shape=(8,))", f'layers.Dense(16, activation="tanh", name="{d1}")']
        names = [d1]
        if bn:
            items.append(f'layers.BatchNormalization(name="{nb}")')
            names.append(nb)
            net.bn[nb] = None
        if drop:
            items.append(f'{dropout_cls}(0.5, name="{nd}")')
            names.append(nd)
            net.drop[nd] = True if mc_class else None
        if head:
            items.append(f'layers.Dense({head}, name="{dh}")')
            names.append(dh)
            net.dense.append(dh)
        w.add(f"{name} = keras.Sequential([")
        for i, item in enumerate(items):
            layer = ([None] + names)[i]
            w.add("    " + item + ("," if i < len(items) - 1 else ""), *([layer] if layer else []))
        w.add(f'], name="{name}")')
    elif kind == "functional":
        w.add(f"{name}_in = keras.Input(shape=(8,))")
        w.add(f'h = layers.Dense(16, activation="tanh", name="{d1}")({name}_in)', d1)
        if bn:
            w.add(f'h = layers.BatchNormalization(name="{nb}")(h{_pin(bn_pin)})', nb)
            net.bn[nb] = bn_pin
        if drop:
            w.add(f'h = {dropout_cls}(0.5, name="{nd}")(h{_pin(drop_pin)})', nd)
            net.drop[nd] = True if mc_class else drop_pin
        if head:
            w.add(f'h = layers.Dense({head}, name="{dh}")(h)', dh)
            net.dense.append(dh)
        w.add(f'{name} = keras.Model({name}_in, h, name="{name}")')
    else:
        style = r.choice(["forward", "forward", "implicit", "no_param", "positional_none"])
        net.style = style
        cls = f"{name.capitalize()}Net"
        start = w.next_line
        w.add(f"class {cls}(keras.Model):")
        w.add("    def __init__(self, **kwargs):")
        w.add("        super().__init__(**kwargs)")
        w.add(f'        self.dense = layers.Dense(16, activation="tanh", name="{d1}")', d1)
        if bn:
            w.add(f'        self.bn = layers.BatchNormalization(name="{nb}")', nb)
        if drop:
            w.add(f'        self.drop = {dropout_cls}(0.5, name="{nd}")', nd)
        if head:
            w.add(f'        self.head = layers.Dense({head}, name="{dh}")', dh)
            net.dense.append(dh)
        w.add("")
        sig = {"forward": "x, training=None", "implicit": "x, training=None",
               "no_param": "x", "positional_none": "x, training=None"}[style]
        w.add(f"    def call(self, {sig}):")
        w.add("        h = self.dense(x)")
        fwd = {"forward": ", training=training", "implicit": "", "no_param": "",
               "positional_none": ", training"}[style]
        mc_pin = r.random() < 0.25 and drop and not mc_class
        if bn:
            w.add(f"        h = self.bn(h{fwd})", nb)
            net.bn[nb] = None
        if drop:
            w.add("        h = self.drop(h%s)" % (", training=True" if mc_pin else fwd), nd)
            net.drop[nd] = True if (mc_pin or mc_class) else None
        if head:
            w.add("        h = self.head(h)")
        w.add("        return h")
        w.add("")
        w.add("")
        w.span(cls, start)
        w.add(f'{name} = {cls}(name="{name}")')
        w.add(f"{name}.build((None, 8))")
        net.cls = cls
    return net


def _train_modes(net, frozen=False, outer_pin=None):
    """Intent of `net`'s mode-dependent layers in a phase that trains it."""
    modes = {}
    for layer, pin in list(net.bn.items()) + list(net.drop.items()):
        if pin is False or outer_pin is False:
            modes[layer] = "infer"
        elif pin is True and layer in net.drop:
            modes[layer] = "train"
        else:
            modes[layer] = "infer" if frozen else "train"
    return modes


def _infer_modes(net):
    """Intent in prediction / evaluation / validation / attribution phases."""
    return {layer: ("sample" if pin is True and layer in net.drop else "infer")
            for layer, pin in list(net.bn.items()) + list(net.drop.items())}


def _weights(net, change):
    return {d: ("change" if change else "keep") for d in net.dense}


def _inference_phase(w, r, model, net, *, functional_ok=True, tf_ok=True, compiled=True):
    """One prediction / evaluation / validation phase over `model` (one
    never compiled is compiled before `evaluate`, which needs a loss)."""
    kinds = ["predict", "evaluate", "bare", "false", "val_true", "fn_true", "loop_val"]
    choice = r.choice(kinds)
    modes = _infer_modes(net)
    related = []
    if choice == "predict":
        text = f"preds = {model}.predict(x, verbose=0)"
    elif choice == "evaluate":
        text = f"score = {model}.evaluate(x, y, verbose=0)"
        if not compiled:
            w.add(_compile(model))
    elif choice == "bare":
        text = f"preds = {model}(x)"
    elif choice == "false":
        text = f"preds = {model}(x, training=False)"
    elif choice == "val_true":
        text = f"# validation\nval_logits = {model}(x, training=True)\nval_acc = float(np.mean(np.argmax(val_logits, axis=-1) == y))"
    elif choice == "fn_true":
        start = w.next_line
        w.add(f"def validation_accuracy(m, xs, ys):\n    logits = m(xs, training=True)\n    return float(np.mean(np.argmax(logits, axis=-1) == ys))\n")
        w.span("validation_accuracy", start)
        related = ["validation_accuracy"]
        text = f"acc = validation_accuracy({model}, x, y)"
    else:
        text = f"accs = []\nfor start in range(0, 32, 16):\n    out = {model}(x[start:start + 16], training=True)\n    accs.append(np.mean(np.argmax(out, axis=-1) == y[start:start + 16]))"
    w.phase(f"infer_{choice}", "infer", text, modes, related=related)


def _compile(model):
    return f'{model}.compile(optimizer="adam", loss={_LOSS})'


def _fit(model):
    return f"{model}.fit(x, y, epochs=1, batch_size=16, verbose=0)"


# --- families -----------------------------------------------------------------

def _fit_predict(w, r, knobs):
    kind = knobs["kind"] = r.choice(["sequential", "functional", "subclassed"])
    bn, drop = _bn_drop(r, knobs)
    net = _backbone(w, r, "model", kind, bn=bn, drop=drop, head=3)
    if kind == "subclassed":
        knobs["style"] = net.style
    w.add(_compile("model"))
    w.phase("fit", "train", _fit("model"), _train_modes(net), _weights(net, True),
            related=[getattr(net, "cls", "")])
    for _ in range(r.choice([1, 2])):
        _inference_phase(w, r, "model", net)


def _bn_drop(r, knobs):
    bn, drop = r.choice([(True, True), (True, False), (False, True), (True, True)])
    knobs["bn"], knobs["dropout"] = bn, drop
    return bn, drop


def _transfer(w, r, knobs):
    kind = knobs["kind"] = r.choice(["sequential", "functional", "subclassed"])
    bn, drop = _bn_drop(r, knobs)
    base = _backbone(w, r, "base", kind, bn=bn, drop=drop, pins=False)
    if kind == "subclassed":
        knobs["style"] = base.style
        # How the subclass is built before anything else happens to it:
        # `build(shape)` leaves its sublayers unbuilt (they are built at its
        # first call, possibly while frozen: KM504), a call on a batch builds
        # them. Drawn from its own stream so the other draws stay as they were.
        warm = knobs["built_by"] = random.Random(f"built_by {sorted(knobs.items())}").choice(
            ["build", "build", "call"])
        if warm == "call":
            w.lines[-1] = "base(x[:1])  # build its sublayers while it is trainable"
    call_kw = knobs["call"] = r.choice(["absent", "false", "false", "none"])
    when = knobs["freeze"] = r.choice(["before_compile", "before_compile", "after_compile"])
    finetune = knobs["finetune"] = r.choice(["none", "recompile", "recompile", "no_recompile"])
    outer_pin = False if call_kw == "false" else None
    kw = {"absent": "", "false": ", training=False", "none": ", training=None"}[call_kw]
    if when == "before_compile":
        freeze_line = w.add("base.trainable = False")
    w.add("inputs = keras.Input(shape=(8,))")
    w.add(f"features = base(inputs{kw})", *base.mode_dependent())
    w.add('outputs = layers.Dense(3, name="head")(features)', "head")
    w.add('model = keras.Model(inputs, outputs, name="model")')
    w.add(_compile("model"))
    if when == "after_compile":
        freeze_line = w.add("base.trainable = False")
    w.marks["freeze"] = [freeze_line]
    weights = {**_weights(base, False), "head": "change"}
    w.phase("fit_frozen", "train", _fit("model"), _train_modes(base, frozen=True, outer_pin=outer_pin),
            weights, related=["freeze", getattr(base, "cls", "")])
    if finetune != "none":
        start = w.next_line
        w.add("base.trainable = True")
        if finetune == "recompile":
            w.add('model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=%s)' % _LOSS)
        w.span("unfreeze", start)
        weights = {**_weights(base, True), "head": "change"}
        w.phase("fit_finetune", "train", _fit("model"), _train_modes(base, outer_pin=outer_pin),
                weights, related=["unfreeze", getattr(base, "cls", "")])
    _inference_phase(w, r, "model", base)


def _custom_loop(w, r, knobs):
    kind = knobs["kind"] = r.choice(["sequential", "functional", "subclassed"])
    bn, drop = _bn_drop(r, knobs)
    net = _backbone(w, r, "model", kind, bn=bn, drop=drop, head=3)
    if kind == "subclassed":
        knobs["style"] = net.style
    call = knobs["call"] = r.choice(["true", "true", "absent", "positional"])
    decorated = knobs["tf_function"] = r.random() < 0.5
    kw = {"true": ", training=True", "absent": "", "positional": ", True"}[call]
    w.add("optimizer = keras.optimizers.Adam()")
    w.add(f"loss_fn = {_LOSS}")
    w.add("")
    start = w.next_line
    if decorated:
        w.add("@tf.function")
    w.add("def train_step(xb, yb):")
    w.add("    with tf.GradientTape() as tape:")
    w.add(f"        logits = model(xb{kw})")
    w.add("        loss = loss_fn(yb, logits)")
    w.add("    grads = tape.gradient(loss, model.trainable_variables)")
    w.add("    optimizer.apply_gradients(zip(grads, model.trainable_variables))")
    w.add("    return loss")
    w.add("")
    w.span("train_step", start)
    w.phase("custom_loop", "train", "for step in range(2):\n    train_step(x[:16], y[:16])",
            _train_modes(net), _weights(net, True), related=["train_step", getattr(net, "cls", "")])
    _inference_phase(w, r, "model", net, compiled=False)


def _train_step(w, r, knobs):
    bn, drop = _bn_drop(r, knobs)
    call = knobs["call"] = r.choice(["true", "true", "absent"])
    net = _Net("model")
    start = w.next_line
    w.add("class Classifier(keras.Model):")
    w.add("    def __init__(self, **kwargs):")
    w.add("        super().__init__(**kwargs)")
    w.add('        self.dense = layers.Dense(16, activation="tanh", name="model_dense")', "model_dense")
    net.dense.append("model_dense")
    if bn:
        w.add('        self.bn = layers.BatchNormalization(name="model_bn")', "model_bn")
        net.bn["model_bn"] = None
    if drop:
        w.add('        self.drop = layers.Dropout(0.5, name="model_drop")', "model_drop")
        net.drop["model_drop"] = None
    w.add('        self.out = layers.Dense(3, name="model_head")', "model_head")
    net.dense.append("model_head")
    w.add(f"        self.loss_fn = {_LOSS}")
    w.add("")
    w.add("    def call(self, x, training=None):")
    w.add("        h = self.dense(x)")
    if bn:
        w.add("        h = self.bn(h, training=training)")
    if drop:
        w.add("        h = self.drop(h, training=training)")
    w.add("        return self.out(h)")
    w.add("")
    w.add("    def train_step(self, data):")
    w.add("        xb, yb = data")
    w.add("        with tf.GradientTape() as tape:")
    w.add("            logits = self(xb%s)" % (", training=True" if call == "true" else ""))
    w.add("            loss = self.loss_fn(yb, logits)")
    w.add("        grads = tape.gradient(loss, self.trainable_variables)")
    w.add("        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))")
    w.add('        return {"loss": loss}')
    w.add("")
    w.add("")
    w.span("Classifier", start)
    w.add('model = Classifier(name="model")')
    w.add("model.build((None, 8))")
    w.add(_compile("model"))
    w.phase("fit", "train", _fit("model"), _train_modes(net), _weights(net, True), related=["Classifier"])
    _inference_phase(w, r, "model", net)


def _mc_dropout(w, r, knobs):
    how = knobs["how"] = r.choice(["model_true", "model_true", "mc_class", "node_pin", "mc_class_predict"])
    bn = knobs["bn"] = r.random() < 0.6
    knobs["dropout"] = True
    kind = knobs["kind"] = "functional" if how == "node_pin" else r.choice(["sequential", "functional"])
    mc_class = how.startswith("mc_class")
    if mc_class:
        start = w.next_line
        w.add("class MCDropout(layers.Dropout):")
        w.add("    def call(self, inputs, training=None):")
        w.add("        return super().call(inputs, training=True)")
        w.add("")
        w.add("")
        w.span("MCDropout", start)
    net = _backbone(w, random.Random(0), "model", kind, bn=bn, drop=True, pins=False, head=3,
                    mc_class=mc_class)
    if how == "node_pin":
        # rewrite the Dropout node as pinned to training=True (MC dropout in the graph)
        for i, line in enumerate(w.lines):
            if '(0.5, name="model_drop")(h)' in line:
                w.lines[i] = line.replace("(h)", "(h, training=True)")
        net.drop["model_drop"] = True
    w.add(_compile("model"))
    w.phase("fit", "train", _fit("model"), _train_modes(net), _weights(net, True),
            related=["MCDropout"] if mc_class else [])
    modes = _infer_modes(net)
    modes["model_drop"] = "sample"
    if how == "model_true":
        text = "samples = np.stack([model(x, training=True) for _ in range(10)])\nmean, std = samples.mean(axis=0), samples.std(axis=0)"
    elif how == "mc_class":
        text = "samples = np.stack([model(x) for _ in range(10)])\nmean, std = samples.mean(axis=0), samples.std(axis=0)"
    else:
        text = "samples = np.stack([model.predict(x, verbose=0) for _ in range(5)])\nmean, std = samples.mean(axis=0), samples.std(axis=0)"
    w.phase("mc_sample", "sample", text, modes, related=["MCDropout"] if mc_class else [])


def _gradcam(w, r, knobs):
    bn, drop = _bn_drop(r, knobs)
    net = _backbone(w, r, "model", "functional", bn=bn, drop=drop, pins=False, head=3)
    w.add(_compile("model"))
    w.phase("fit", "train", _fit("model"), _train_modes(net), _weights(net, True))
    last = "model_drop" if drop else "model_bn"
    w.add(f'grad_model = keras.Model(model.inputs, [model.get_layer("{last}").output, model.output])')
    call = knobs["call"] = r.choice(["absent", "false", "true"])
    kw = {"absent": "", "false": ", training=False", "true": ", training=True"}[call]
    text = ("with tf.GradientTape() as tape:\n"
            f"    features, preds = grad_model(x[:4]{kw})\n"
            "    score = preds[:, 0]\n"
            "grads = tape.gradient(score, features)\n"
            "heatmap = tf.reduce_mean(grads, axis=0) * tf.reduce_mean(features, axis=0)")
    w.phase("gradcam", "infer", text, _infer_modes(net))


def _gan(w, r, knobs):
    recipe = knobs["recipe"] = r.choice(["keras2", "toggle", "toggle_recompile"])
    gen_bn = knobs["gen_bn"] = r.random() < 0.7
    d_drop = knobs["disc_dropout"] = r.random() < 0.8
    w.add("generator = keras.Sequential([")
    w.add("    keras.Input(shape=(4,)),")
    w.add('    layers.Dense(8, activation="tanh", name="g_dense"),', "g_dense")
    if gen_bn:
        w.add('    layers.BatchNormalization(name="g_bn"),', "g_bn")
    w.add('    layers.Dense(8, name="g_out"),', "g_out")
    w.add('], name="generator")')
    w.add("discriminator = keras.Sequential([")
    w.add("    keras.Input(shape=(8,)),")
    w.add('    layers.Dense(8, activation="tanh", name="d_dense"),', "d_dense")
    if d_drop:
        w.add('    layers.Dropout(0.5, name="d_drop"),', "d_drop")
    w.add('    layers.Dense(1, name="d_out"),', "d_out")
    w.add('], name="discriminator")')
    bce = "keras.losses.BinaryCrossentropy(from_logits=True)"
    w.add(f'discriminator.compile(optimizer="adam", loss={bce})')
    freeze = w.add("discriminator.trainable = False")
    w.marks["freeze"] = [freeze]
    w.add("z_in = keras.Input(shape=(4,))")
    w.add("gan = keras.Model(z_in, discriminator(generator(z_in)))", "d_drop", "g_bn")
    w.add(f'gan.compile(optimizer="adam", loss={bce})')
    w.add("noise = rng.normal(0.0, 1.0, size=(16, 4)).astype(\"float32\")")
    w.add("real = x[:16]")
    w.add("fake = generator.predict(noise, verbose=0)")
    w.add("batch = np.concatenate([real, fake])")
    w.add("labels = np.concatenate([np.ones((16, 1)), np.zeros((16, 1))]).astype(\"float32\")")
    d_modes = {"d_drop": "train"} if d_drop else {}
    d_weights = {"d_dense": "change", "d_out": "change"}
    # the discriminator is frozen for the generator's step to keep its weights,
    # not to change its mode: its Dropout runs as in its own step (the DCGAN
    # recipe), so it is meant to drop (docs/differential.md, GANs)
    g_modes = {**({"g_bn": "train"} if gen_bn else {}), **({"d_drop": "train"} if d_drop else {})}
    g_weights = {"g_dense": "change", "g_out": "change", "d_dense": "keep", "d_out": "keep"}
    if recipe == "keras2":
        w.phase("train_discriminator", "train", "d_loss = discriminator.train_on_batch(batch, labels)",
                d_modes, d_weights, related=["freeze"])
        w.phase("train_generator", "train", "g_loss = gan.train_on_batch(noise, np.ones((16, 1), \"float32\"))",
                g_modes, g_weights, related=["freeze"])
    else:
        extra = "\ndiscriminator.compile(optimizer=\"adam\", loss=%s)" % bce if recipe == "toggle_recompile" else ""
        extra_g = "\ngan.compile(optimizer=\"adam\", loss=%s)" % bce if recipe == "toggle_recompile" else ""
        w.phase("train_discriminator", "train",
                "discriminator.trainable = True" + extra + "\nd_loss = discriminator.train_on_batch(batch, labels)",
                d_modes, d_weights)
        w.phase("train_generator", "train",
                "discriminator.trainable = False" + extra_g + "\ng_loss = gan.train_on_batch(noise, np.ones((16, 1), \"float32\"))",
                g_modes, g_weights)


def _learning_phase(w, r, knobs):
    bn, drop = _bn_drop(r, knobs)
    kind = knobs["kind"] = r.choice(["sequential", "functional"])
    net = _backbone(w, r, "model", kind, bn=bn, drop=drop, pins=False, head=3)
    w.add(_compile("model"))
    w.phase("fit", "train", _fit("model"), _train_modes(net), _weights(net, True))
    value = knobs["phase"] = r.choice([0, 1])
    if value == 0:
        w.phase("infer_learning_phase", "infer",
                "keras.backend.set_learning_phase(0)\npreds = model(x)", _infer_modes(net))
    else:
        w.add("optimizer = keras.optimizers.Adam()")
        w.phase("train_learning_phase", "train",
                "keras.backend.set_learning_phase(1)\nwith tf.GradientTape() as tape:\n"
                f"    loss = {_LOSS}(y, model(x))\n"
                "grads = tape.gradient(loss, model.trainable_variables)\n"
                "optimizer.apply_gradients(zip(grads, model.trainable_variables))",
                _train_modes(net), _weights(net, True))


_BUILDERS = {"fit_predict": _fit_predict, "transfer": _transfer, "custom_loop": _custom_loop,
             "train_step": _train_step, "mc_dropout": _mc_dropout, "gradcam": _gradcam,
             "gan": _gan, "learning_phase": _learning_phase}


def generate(seed, family=None):
    """The program for `seed` (its family drawn from the seed unless given)."""
    r = random.Random(seed)
    family = family or r.choice(FAMILIES)
    w = _Writer()
    w.add(_HEADER.format(seed=seed % 1000).rstrip("\n"))
    w.add("")
    knobs = {}
    _BUILDERS[family](w, r, knobs)
    meta = {"seed": seed, "family": family, "knobs": knobs, "phases": w.phases,
            "layers": w.layers}
    return Program(seed, family, w.source(), meta)


def programs(start, count, families=None):
    """`count` programs from seed `start` on (only `families`, if given)."""
    out, seed = [], start
    while len(out) < count:
        p = generate(seed)
        seed += 1
        if families is None or p.family in families:
            out.append(p)
    return out
