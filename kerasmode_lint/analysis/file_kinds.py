"""What kind of file a path is, for rules that stay quiet in some kinds.

- ``keras-itself``: a module of Keras's own package (``keras``, ``tf_keras``,
  ``keras_core``: the top-level package found by walking up the folders that
  hold an ``__init__.py``). Keras implements and tests its own API there:
  ``backend.learning_phase()`` inside tf_keras is the implementation, not a use.
- ``test``: a test module by name (``test_*.py``, ``*_test.py``, ``*_tests.py``,
  ``conftest.py``). Tests construct the patterns deliberately to exercise them
  (a layer defaulting ``training=True``, ``trainable`` flipped after
  ``compile``) and assert on what Keras does with them.

Only the file system is read (a few ``stat`` calls per folder, cached).
"""
from __future__ import annotations

import functools
import os
import re
from typing import FrozenSet

KERAS_ITSELF = "keras-itself"
TEST = "test"

_KERAS_PACKAGES = frozenset({"keras", "tf_keras", "keras_core"})
_TEST_NAME = re.compile(r"(?:test_.*|.*_tests?|conftest)\.py")


@functools.lru_cache(maxsize=4096)
def _top_package(folder: str) -> str:
    """Name of the outermost package containing ``folder`` ('' if none)."""
    top = ""
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        top = os.path.basename(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return top


def kinds_of(path: str) -> FrozenSet[str]:
    if not path or path == "-":
        return frozenset()
    kinds = set()
    if _TEST_NAME.fullmatch(os.path.basename(path)):
        kinds.add(TEST)
    if path.endswith(".py") and _top_package(os.path.dirname(os.path.abspath(path))) in _KERAS_PACKAGES:
        kinds.add(KERAS_ITSELF)
    return frozenset(kinds)
