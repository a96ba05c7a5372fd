"""Which Keras 3 backend a file runs on (JAX, TensorFlow, torch …).

Only a few rules depend on it (KM306: the JAX trainer does not propagate
``training`` to a subclassed Model's sublayers), so every file gets one
resolved backend and a rule may declare the backends it applies to.

Resolution (``resolve_backend``), the first that gives a value wins:

1. an explicit setting: ``--keras-backend`` or ``keras-backend`` in the config;
2. the file's own code, the first of (comments ignored):
   ``os.environ["KERAS_BACKEND"] = "jax"``, ``os.putenv("KERAS_BACKEND", "jax")``,
   ``os.environ.update(KERAS_BACKEND="jax")`` / ``update({"KERAS_BACKEND": "jax"})``,
   ``keras.config.set_backend("jax")``, the notebook magics
   ``%env KERAS_BACKEND=jax`` / ``%set_env KERAS_BACKEND jax``; and
   ``os.environ.setdefault("KERAS_BACKEND", "jax")``, which (as at run time)
   counts only when the environment does not set KERAS_BACKEND;
3. the ``KERAS_BACKEND`` environment variable (ignored when empty, as Keras
   does; a value Keras does not know is an error, as ``--keras-backend`` is);
4. ``"backend"`` in ``keras.json`` under ``$KERAS_HOME``, else ``~/.keras``
   (``/tmp/.keras`` when the home directory is not writable, as Keras does);
5. ``tensorflow``, Keras's default.

This mirrors ``keras/src/backend/config.py`` (Keras 3.15.1), which reads
keras.json first and lets the environment variable override it.
"""
from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from typing import Optional

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "ResolvedBackend", "parse_keras_backend",
           "resolve_backend", "environment_backend", "clear_caches"]

# The backends Keras 3.15 accepts (keras/src/backend/__init__.py).
BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")
DEFAULT_BACKEND = "tensorflow"


@dataclass(frozen=True)
class ResolvedBackend:
    backend: str
    reason: str  # human text for --show-settings
    from_variable: bool = False  # $KERAS_BACKEND: beats os.environ.setdefault in the code


def parse_keras_backend(text: object) -> str:
    """Validate an explicit setting; returns it normalised (``auto`` allowed)."""
    value = text.strip().lower() if isinstance(text, str) else None
    if value == "auto" or value in BACKENDS:
        return value
    raise ValueError(_invalid(text))


def _invalid(text: object) -> str:
    return f"invalid keras-backend {text!r}: expected auto or one of {', '.join(BACKENDS)}"


def resolve_backend(
    setting: str,
    source: bytes = b"",
    *,
    setting_origin: str = "--keras-backend",
    environment: "Optional[ResolvedBackend]" = None,
) -> ResolvedBackend:
    """The backend ``source`` runs on. ``environment`` is what
    ``environment_backend()`` said, when the caller already asked (so the
    answer is in its cache key). Raises ValueError for an invalid ``setting``
    or an invalid $KERAS_BACKEND."""
    setting = parse_keras_backend(setting)
    if setting != "auto":
        return ResolvedBackend(setting, f"set by {setting_origin}")
    in_code = _code_signal(source)
    if in_code is not None and not in_code.yields_to_environment:
        return in_code.resolved
    if environment is None:
        environment = environment_backend()
    if environment.from_variable or in_code is None:
        return environment
    return in_code.resolved


def environment_backend() -> ResolvedBackend:
    """The backend outside the code: $KERAS_BACKEND, else keras.json, else
    tensorflow. An invalid $KERAS_BACKEND or keras.json backend is an error
    (Keras itself refuses to start with it), raised as ValueError."""
    environment = os.environ.get("KERAS_BACKEND")
    if environment and environment.strip():
        try:
            value = parse_keras_backend(environment)
        except ValueError as exc:
            raise ValueError(f"environment variable KERAS_BACKEND: {exc}") from None
        if value != "auto":
            return ResolvedBackend(value, "environment variable KERAS_BACKEND", from_variable=True)
    path = _keras_json_path()
    configured = _keras_json_backend(path)
    if configured is not None:
        if configured not in BACKENDS:  # Keras refuses it too
            raise ValueError(f"\"backend\" in {path}: {_invalid(configured)}")
        return ResolvedBackend(configured, f"\"backend\" in {path}")
    return ResolvedBackend(DEFAULT_BACKEND, "default (no KERAS_BACKEND in code or environment, no keras.json)")


def clear_caches() -> None:
    _keras_json_backend.cache_clear()


# --- 2. the file's code ---------------------------------------------------------

_Q = r"[\"']"
_NAME = r"(?P<value>[A-Za-z]+)"
_VAR = "KERAS_BACKEND"
_SIGNALS = [
    (re.compile(r"environ\s*\[\s*" + _Q + _VAR + _Q + r"\s*\]\s*=\s*" + _Q + _NAME + _Q), False),
    (re.compile(r"\bputenv\s*\(\s*" + _Q + _VAR + _Q + r"\s*,\s*" + _Q + _NAME + _Q), False),
    (re.compile(r"\bupdate\s*\([^)\n]*\b" + _VAR + r"\s*=\s*" + _Q + _NAME + _Q), False),
    (re.compile(r"\bupdate\s*\(\s*\{[^}\n]*" + _Q + _VAR + _Q + r"\s*:\s*" + _Q + _NAME + _Q), False),
    (re.compile(r"^\s*%(?:env|set_env)\s+" + _VAR + r"(?:\s*=\s*|\s+)" + _Q + r"?" + _NAME, re.M), False),
    (re.compile(r"\bset_backend\s*\(\s*(?:backend\s*=\s*)?" + _Q + _NAME + _Q), False),
    (re.compile(r"\bsetdefault\s*\(\s*" + _Q + _VAR + _Q + r"\s*,\s*" + _Q + _NAME + _Q), True),
]


@dataclass(frozen=True)
class _CodeSignal:
    resolved: ResolvedBackend
    yields_to_environment: bool


def _code_signal(source: bytes) -> Optional[_CodeSignal]:
    if isinstance(source, bytes):
        if b"KERAS_BACKEND" not in source and b"set_backend" not in source:
            return None
        text = source.decode("utf-8", "replace")
    else:
        text = source
    best = None
    for pattern, yields in _SIGNALS:
        for match in pattern.finditer(text):
            start = text.rfind("\n", 0, match.start()) + 1
            if "#" in text[start:match.start()]:
                continue  # commented out (or, rarely, after a "#" in a string)
            value = match.group("value").lower()
            if value not in BACKENDS:
                continue
            if best is None or match.start() < best[0]:
                line = text.count("\n", 0, match.start()) + 1
                how = "set with setdefault in the file" if yields else "set in the file"
                best = (match.start(), _CodeSignal(ResolvedBackend(value, f"KERAS_BACKEND {how} (line {line})"), yields))
            break
    return best[1] if best else None


# --- 4. keras.json ---------------------------------------------------------------

def _keras_json_path() -> str:
    home = os.environ.get("KERAS_HOME")
    if home is None:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        home = os.path.join(base, ".keras")
    return os.path.expanduser(os.path.join(home, "keras.json"))


@functools.lru_cache(maxsize=None)
def _keras_json_backend(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return None
    value = config.get("backend") if isinstance(config, dict) else None
    return value.strip().lower() if isinstance(value, str) and value.strip() else None
