"""Small helpers shared by the unit tests."""
import textwrap

from kerasmode_lint import lint_source

# A custom training loop KM101 flags on line 3, column 12 (the model call).
FLAGGED = textwrap.dedent("""\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
""")


# A notebook's two cells: one builds a model with Dropout, the next trains it
# in a tape without training= (KM101 in the second cell).
BUILD = "import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dropout(0.5)])\n"
TRAIN = (
    "for x in data:\n"
    "    with tf.GradientTape() as tape:\n"
    "        y = model(x)\n"
    "    grads = tape.gradient(y, model.trainable_variables)\n"
    "    opt.apply_gradients(zip(grads, model.trainable_variables))\n"
)

def findings(source: str, version: str = "3", **kwargs):
    """(line, code) pairs reported for dedented ``source``."""
    diags = lint_source(textwrap.dedent(source), "example.py", keras_version=version, **kwargs)
    return [(d.line, d.code) for d in diags]


def codes(source: str, version: str = "3", **kwargs):
    return [code for _, code in findings(source, version, **kwargs)]


def add_rules(monkeypatch, *extra):
    """Register extra rule classes (test probes) for the length of a test:
    the registry loads rules by code (kerasmode_lint/rules/__init__.py) and
    the prefilter reads their triggers from kerasmode_lint/engine/triggers.py."""
    from kerasmode_lint import rules
    from kerasmode_lint.engine import triggers

    monkeypatch.setattr(rules, "CODES", rules.CODES + tuple(rule.code for rule in extra))
    for rule in extra:
        monkeypatch.setitem(rules._loaded, rule.code, rule)
        monkeypatch.setitem(triggers.TRIGGERS, rule.code, rule.triggers)


def outside_libcst_limits(diagnostics):
    """Diagnostics without the KM001 for code libcst cannot parse although
    Python can: a file gets it only when some rule wanted to look at it, so it
    is the one difference the prefilter may make."""
    return [d for d in diagnostics if not d.message.startswith("cannot parse with libcst")]
