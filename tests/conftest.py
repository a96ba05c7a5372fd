"""Hermetic settings for every test: the Keras version and backend a lint
resolves must not depend on the developer's environment (KERAS_BACKEND,
~/.keras/keras.json, TF_USE_LEGACY_KERAS, an activated environment), and
nothing the tests run (TensorFlow fixtures included) may write the user's
~/.keras: KERAS_HOME points at a temporary folder from the moment the tests
are collected."""
import os
import tempfile

import pytest

os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="km_keras_home_")

from kerasmode_lint.engine import backends, versions  # noqa: E402 (after KERAS_HOME is set)


@pytest.fixture(autouse=True)
def _no_ambient_keras_backend(monkeypatch, tmp_path_factory):
    for variable in ("KERAS_BACKEND", "TF_USE_LEGACY_KERAS", "VIRTUAL_ENV", "CONDA_PREFIX", "PRE_COMMIT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
    for module in (backends, versions):
        module.clear_caches()
    yield
    for module in (backends, versions):
        module.clear_caches()


# Tests marked `slow` (minutes, gigabytes: the 200,000-line file, the large
# fuzz run) are deselected unless asked for, whatever -m says: `pytest --slow`.
def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


# In the rules' own tests (test_km*.py), every lint also runs with every rule
# forced past the prefilter, and the two must agree: the trigger words and
# screens may only skip work, never a finding. (test_prefilter.py checks the
# repository's snippets; this covers each rule test's variations too.)
@pytest.fixture(autouse=True)
def _prefilter_never_hides_a_finding(request, monkeypatch):
    if not request.module.__name__.startswith("test_km"):
        yield
        return
    from helpers import outside_libcst_limits
    from kerasmode_lint.engine import lint as engine

    real = engine.lint_text

    def both_ways(text, path, options=engine.LintOptions(), **kwargs):
        result = real(text, path, options, **kwargs)
        if kwargs.get("prefilter", True):
            forced = real(text, path, options, **dict(kwargs, prefilter=False))
            assert outside_libcst_limits(result.diagnostics) == outside_libcst_limits(forced.diagnostics), (
                "the prefilter hid a finding: a rule reports on this source only when forced to run"
            )
        return result

    monkeypatch.setattr(engine, "lint_text", both_ways)
    yield
