"""Hermetic settings for every test: the Keras backend a lint resolves must not
depend on the developer's environment (KERAS_BACKEND, ~/.keras/keras.json)."""
import pytest

from kerasmode_lint import backends


@pytest.fixture(autouse=True)
def _no_ambient_keras_backend(monkeypatch, tmp_path_factory):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
    backends.clear_caches()
    yield
    backends.clear_caches()


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
