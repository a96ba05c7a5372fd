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
