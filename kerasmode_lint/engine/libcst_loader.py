"""Importing libcst without running libcst.metadata's package initialisation.

``import libcst`` costs about 0.2 s, the larger part of linting one small file.
libcst's ``__init__`` imports two modules of ``libcst.metadata``, and Python
runs that package's own ``__init__`` first, which imports every metadata
provider (scopes, qualified names, type inference, the repository manager...):
a tenth of the whole import, for code the linter never calls (it needs no
metadata: see positions.py).

``load()`` registers ``libcst.metadata`` as a package whose ``__init__`` runs
on the first attribute anyone asks of it (``from libcst.metadata import
PositionProvider`` works as always), then imports libcst. Submodules such as
``libcst.metadata.base_provider`` import as usual. If libcst is already
imported, or anything about its layout is unexpected, it is a plain
``import libcst``.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from types import ModuleType

_PACKAGE = "libcst.metadata"


def load() -> ModuleType:
    """The libcst module, imported with its metadata package's init deferred."""
    loaded = sys.modules.get("libcst")
    if loaded is not None:
        return loaded
    deferred = _deferred_package()
    try:
        import libcst
    except BaseException:
        if deferred is not None and sys.modules.get(_PACKAGE) is deferred:
            del sys.modules[_PACKAGE]
        raise
    if deferred is not None and getattr(libcst, "metadata", None) is None:
        libcst.metadata = deferred  # an import binds a package to its parent; this one was not imported
    return libcst


def _deferred_package():
    if _PACKAGE in sys.modules:
        return None
    try:
        top = importlib.util.find_spec("libcst")  # does not import it
        locations = top.submodule_search_locations if top is not None else None
        spec = importlib.machinery.PathFinder.find_spec(_PACKAGE, locations) if locations else None
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return None
        module = importlib.util.module_from_spec(spec)
    except Exception:  # an unusual installation: import it the ordinary way
        return None
    lock = threading.RLock()
    state = {"initialised": False}

    def __getattr__(name: str):
        # Called only for names the module does not have yet: run the real
        # __init__ once (it rebinds everything), then answer as it would.
        with lock:
            if not state["initialised"]:
                state["initialised"] = True
                spec.loader.exec_module(module)
        if name in module.__dict__:
            return module.__dict__[name]
        raise AttributeError(f"module {_PACKAGE!r} has no attribute {name!r}")

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules[_PACKAGE] = module
    return module
