"""Which Keras version a file is linted against, and which versions a rule covers.

Keras 2 (tf.keras up to TensorFlow 2.15, and the ``tf_keras`` package) and
Keras 3 resolve ``training`` differently, and Keras 3.16 changed it again, so
every file gets one resolved ``KerasVersion`` and every rule declares where it
applies.

Versions
    ``KerasVersion`` is an ordered (major, minor, patch) triple.  Keras 2
    semantics are represented as ``KERAS2`` (2.15); the setting ``3`` means the
    newest measured Keras 3 release, ``KERAS3_MEASURED`` (3.15).

Resolution (``resolve_version``)
    An explicit setting wins.  With ``auto`` the first signal found wins:

    1. the file itself: ``tf_keras`` imports, or TF_USE_LEGACY_KERAS set to a
       true value (regexes on the raw bytes; matches after a ``#`` are ignored);
    2. the APIs the code uses, when only one side's (``_api_signal``): a
       file on ``keras.ops`` cannot target Keras 2 whatever the project pins;
    3. the project (``project_version``, what callers put in the cache key):
       its interpreter environment (``python``, $VIRTUAL_ENV, $CONDA_PREFIX,
       .venv/venv/env at the root; dist-info names read as files), else the
       main dependency pins of the nearest project root that pins something
       (requirements files nearest the file first with ``-r`` includes, PEP
       621, Poetry, setup.cfg, setup.py read with ast, conda environment
       files, Pipfile; extras and dev groups never decide). TensorFlow >= 2.16
       with tf-keras is Keras 2 only with TF_USE_LEGACY_KERAS true in the
       process environment or the root's ``.env``;
    4. assumed (marked so): Keras 3 for a file importing standalone keras,
       else Keras 2 (``_assumed``).

    The linter's own environment is never read: under pre-commit it is the
    hook's private one and says nothing about the project.

    A keras pin maps to a version like this: a pin that allows only < 3 is
    Keras 2; a pin naming a version (``==3.12``, ``==3.12.*``, ``~=3.12``,
    poetry ``^3.12``/``~3.12``/``3.12``) is that version; a pure range
    (``>=3.2``, ``<3.10``) is the measured version clamped into the range.
    A tensorflow pin is Keras 2 when it excludes 2.16 and later, Keras 3 when it
    requires 2.16 or later, and no signal when it straddles 2.16.

Applicability (``VersionRange``, ``VersionSet``)
    A rule declares a ``VersionRange`` (one interval, bounds inclusive, ``None``
    = open) or a ``VersionSet`` (a union of ranges, e.g. Keras 2 plus 3.16+).
    Both support ``version in applies_to`` and ``str()`` ("Keras 2, 3.16+");
    ``range_a | range_b`` builds a ``VersionSet``.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple, Optional, Tuple

__all__ = [
    "KerasVersion", "KERAS2", "KERAS3_MEASURED", "parse_keras_version",
    "ResolvedVersion", "ASSUMED", "ASSUMED_KERAS2", "resolve_version", "project_version", "clear_caches",
    "VersionRange", "VersionSet", "ALL", "KERAS2_ONLY", "KERAS3",
    "KERAS3_TO_315", "KERAS3_FROM_316", "KERAS2_AND_316",
]


# --- versions ---------------------------------------------------------------

@dataclass(frozen=True, order=True)
class KerasVersion:
    major: int
    minor: int
    patch: int = 0

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}"
        return f"{text}.{self.patch}" if self.patch else text

    @property
    def is_keras2(self) -> bool:
        return self.major < 3


KERAS2 = KerasVersion(2, 15)
KERAS3_MEASURED = KerasVersion(3, 15)  # what the setting "3" means

_SETTING = re.compile(r"\s*([0-9]+)(?:\.([0-9]+)(?:\.([0-9]+))?)?\s*")


def parse_keras_version(text: str) -> KerasVersion:
    """Parse an explicit setting: ``2``, ``3`` or ``X.Y[.Z]`` (not ``auto``)."""
    m = _SETTING.fullmatch(text) if isinstance(text, str) else None
    if m is None or int(m[1]) not in (2, 3):
        raise ValueError(
            f"invalid keras-version {text!r}: expected auto, 2, 3 or X.Y[.Z] with X in (2, 3)"
        )
    major = int(m[1])
    if m[2] is None:
        return KERAS2 if major == 2 else KERAS3_MEASURED
    return KerasVersion(major, int(m[2]), int(m[3] or 0))


@dataclass(frozen=True)
class ResolvedVersion:
    version: KerasVersion
    reason: str  # human text for --show-settings / diagnostics
    assumed: bool = False  # nothing decided: the version is the default, not a finding


ASSUMED = ResolvedVersion(
    KERAS3_MEASURED, "assumed: nothing in the file, the project or its environment decides, "
    "and the file imports standalone keras", True
)


def resolve_version(
    setting: str,
    path: "str | os.PathLike[str] | None",
    source: bytes,
    *,
    setting_origin: str = "--keras-version",
    project: "Optional[ResolvedVersion] | str" = "look",
    python: Optional[str] = None,
) -> ResolvedVersion:
    """The Keras version to lint ``source`` (read from ``path``) against.

    ``project`` is what ``project_version`` says for the file's folder when
    the caller already asked (so the answer is part of its cache key);
    ``"look"`` asks here. Raises ValueError only for an invalid ``setting``.
    """
    if setting.strip().lower() != "auto":
        return ResolvedVersion(parse_keras_version(setting), f"set by {setting_origin}")
    if isinstance(project, str):
        project = project_version(path, python=python)
    return _file_signal(source) or _api_signal(source) or project or _assumed(source)


def project_version(
    path: "str | os.PathLike[str] | None", *, python: Optional[str] = None
) -> Optional[ResolvedVersion]:
    """What the project around ``path`` says, leaving the file's own content
    aside; None when it says nothing. Reads files only (no import, no
    subprocess) and the process environment (VIRTUAL_ENV, CONDA_PREFIX,
    TF_USE_LEGACY_KERAS)."""
    start = _start_dir(path)
    root = _project_root(start) or start
    legacy = _legacy_flag(root)
    prefix = _project_environment(root, python)
    return (_environment_signal(prefix, legacy) if prefix else None) or _pin_signal(start, legacy)


def clear_caches() -> None:
    """Forget cached project roots, pins and installed versions (tests, servers)."""
    _project_root.cache_clear()
    _is_project_root.cache_clear()
    _pins_in.cache_clear()
    _dotenv_legacy.cache_clear()
    _distributions.cache_clear()


# --- 1. signals in the file itself ------------------------------------------

_Q = rb"[\"']"
_TRUE = rb"(?:1|true|True)"  # the values TensorFlow accepts for the variable
_VAR = rb"TF_USE_LEGACY_KERAS"
_FILE_SIGNAL_PATTERN = (
    # import tf_keras / import tf_keras as k / import os, tf_keras / from tf_keras.x import y
    rb"(?P<imp>(?:^|;)[ \t]*(?:import[ \t]+(?:[\w.]+(?:[ \t]+as[ \t]+\w+)?[ \t]*,[ \t]*)*"
    rb"|from[ \t]+)tf_keras\b(?:\.[\w.]*)?(?:[ \t]+import\b|[ \t]*(?:as\b|,|;|#|\r?$)))"
    rb"|(?P<env>"
    rb"environ[ \t]*\[[ \t]*" + _Q + _VAR + _Q + rb"[ \t]*\][ \t]*=[ \t]*" + _Q + _TRUE + _Q
    + rb"|(?:setdefault|putenv|setenv)[ \t]*\([ \t]*" + _Q + _VAR + _Q + rb"[ \t]*,[ \t]*" + _Q + _TRUE + _Q
    + rb"|update[ \t]*\([^)\n]*\b" + _VAR + rb"[ \t]*=[ \t]*" + _Q + _TRUE + _Q
    + rb"|update[ \t]*\([ \t]*\{[^}\n]*" + _Q + _VAR + _Q + rb"[ \t]*:[ \t]*" + _Q + _TRUE + _Q
    + rb"|^[ \t]*%(?:env|set_env)[ \t]+" + _VAR + rb"(?:[ \t]*=[ \t]*|[ \t]+)" + _Q + rb"?" + _TRUE + rb"\b"
    + rb")"
)


@functools.lru_cache(maxsize=1)
def _file_signal_regex() -> "re.Pattern[bytes]":
    # Compiled on first use: it costs more than the rest of this module's
    # import, and most runs never meet a line it must look at.
    return re.compile(_FILE_SIGNAL_PATTERN, re.MULTILINE)


def _file_signal(source: bytes) -> Optional[ResolvedVersion]:
    if isinstance(source, str):
        source = source.encode("utf-8", "replace")
    # Every signal sits on one line with one of two names, so find those lines
    # with bytes.find and run the (slow, many-branch) regex on them only.
    starts = set()
    for needle in (b"tf_keras", _VAR):
        i = source.find(needle)
        while i != -1:
            starts.add(source.rfind(b"\n", 0, i) + 1)
            end = source.find(b"\n", i)
            i = -1 if end == -1 else source.find(needle, end)
    for start in sorted(starts):
        end = source.find(b"\n", start)
        line = source[start:] if end == -1 else source[start:end]
        for m in _file_signal_regex().finditer(line):
            if b"#" in line[:m.start()]:
                break  # inside a comment (or, rarely, after a "#" in a string)
            number = source.count(b"\n", 0, start) + 1
            what = "imports tf_keras" if m["imp"] else "sets TF_USE_LEGACY_KERAS"
            return ResolvedVersion(KERAS2, f"file {what} (line {number})")
    return None


# --- the version assumed when nothing decides ----------------------------------------

ASSUMED_KERAS2 = ResolvedVersion(
    KERAS2, "assumed: nothing in the file, the project or its environment decides, "
    "and the file does not import standalone keras (tf.keras was Keras 2 up to TensorFlow 2.15)", True
)
_STANDALONE_KERAS = re.compile(rb"^[ \t]*(?:import[ \t]+keras\b|from[ \t]+keras(?:\.\w+)*[ \t]+import\b)", re.M)


def _assumed(source: bytes) -> ResolvedVersion:
    """Unpinned code that imports standalone keras is assumed Keras 3 (what
    ``pip install keras`` has given since 2023); anything else (tf.keras
    code) Keras 2, as tf.keras was through TensorFlow 2.15. Measured on the
    real-world corpus (scripts/version_audit.py): 8 of 11 repositories get
    their targeted Keras this way, 4 with Keras 3 assumed for every file."""
    if isinstance(source, str):
        source = source.encode("utf-8", "replace")
    if b"keras" in source and _STANDALONE_KERAS.search(source):
        return ASSUMED
    return ASSUMED_KERAS2


# --- signals of the APIs the code uses -------------------------------------------

# Names that exist in only one of the two: the code was written for that one.
# Whole dotted names on the raw bytes; a match after "#" on its line is ignored.
# Each with a word it cannot match without: a file holding none of a side's
# words is not searched for that side (a pattern without a literal start is
# tried at every byte: milliseconds on a large file).
_KERAS2_ONLY_APIS = (
    (b"fit_generator", rb"\.fit_generator\s*\("), (b"evaluate_generator", rb"\.evaluate_generator\s*\("),
    (b"predict_generator", rb"\.predict_generator\s*\("), (b"keras.engine", rb"\bkeras\.engine\b"),
    (b"tensorflow.python.keras", rb"\btensorflow\.python\.keras\b"), (b"keras.layers.core", rb"\bkeras\.layers\.core\b"),
    (b"set_learning_phase", rb"\bset_learning_phase\s*\("), (b"keras_applications", rb"\bkeras_applications\b"),
    (b"keras_preprocessing", rb"\bkeras_preprocessing\b"), (b"compat.v1.Session", rb"\bcompat\.v1\.Session\b"),
    (b"compat.v1.keras", rb"\bcompat\.v1\.keras\b"), (b"get_session", rb"\bkeras\.backend\.get_session\b"),
    (b"get_session", rb"\bK\.get_session\b"),
)
_KERAS3_ONLY_APIS = (
    (b"keras.ops", rb"\bkeras\.ops\b"), (b"keras.random", rb"\bkeras\.random\b"),
    (b"keras.config", rb"\bkeras\.config\b"), (b"keras_hub", rb"\bkeras_hub\b"),
    (b"keras.src", rb"\bkeras\.src\b"),
    (b"import", rb"\bfrom\s+keras\s+import\s+(?:[\w, ]*,\s*)?(?:ops|random|config)\b"),
    (b"keras.Operation", rb"\bkeras\.Operation\b"), (b"keras.export", rb"\bkeras\.export\b"),
)


@functools.lru_cache(maxsize=64)
def _api_regex(patterns: Tuple[bytes, ...]) -> "re.Pattern[bytes]":
    return re.compile(b"|".join(patterns))


def _first_api(apis, source: bytes) -> Optional[Tuple[int, bytes]]:
    present = tuple(pattern for word, pattern in apis if word in source)
    if not present:
        return None
    for m in _api_regex(present).finditer(source):
        start = source.rfind(b"\n", 0, m.start()) + 1
        if b"#" not in source[start:m.start()]:
            return source.count(b"\n", 0, m.start()) + 1, m.group(0)
    return None


def _api_signal(source: bytes) -> Optional[ResolvedVersion]:
    """Keras 2 when the code uses only Keras-2-only APIs, Keras 3 when only
    Keras-3-only ones; nothing when it uses both or neither."""
    if isinstance(source, str):
        source = source.encode("utf-8", "replace")
    if not any(word in source for word in (b"keras", b"generator", b"learning_phase", b"compat")):
        return None  # every pattern holds one of these
    old, new = _first_api(_KERAS2_ONLY_APIS, source), _first_api(_KERAS3_ONLY_APIS, source)
    if (old is None) == (new is None):
        return None
    line, name = old or new  # type: ignore[misc]
    text = name.decode("ascii", "replace").strip()
    if old:
        return ResolvedVersion(KERAS2, f"code uses {text!r}, which only Keras 2 has (line {line})")
    return ResolvedVersion(KERAS3_MEASURED, f"code uses {text!r}, which only Keras 3 has (line {line})")


# --- 2. the project's environment and dependency pins ---------------------------

_ROOT_MARKERS = frozenset({
    "pyproject.toml", "setup.cfg", "setup.py", ".git", "Pipfile", "environment.yml", "environment.yaml",
})
_TENSORFLOW = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel")
_TRUE_TEXT = ("1", "true", "True")


def _is_requirements(name: str) -> bool:
    return name.startswith("requirements") and name.endswith(".txt")


def _is_conda_environment(name: str) -> bool:
    return name.startswith("environment") and name.endswith((".yml", ".yaml"))


def _start_dir(path: "str | os.PathLike[str] | None") -> str:
    if path is None:
        return os.getcwd()
    full = os.path.abspath(os.fspath(path))
    return full if os.path.isdir(full) else os.path.dirname(full)


@functools.lru_cache(maxsize=None)
def _project_root(directory: str) -> Optional[str]:
    # A loop, not recursion: folders can nest deeper than the recursion limit.
    while not _is_project_root(directory):
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return directory


@functools.lru_cache(maxsize=None)
def _is_project_root(directory: str) -> bool:
    # Cached apart from _project_root so that sibling folders list their
    # shared ancestors once.
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    return any(n in _ROOT_MARKERS or _is_requirements(n) or _is_conda_environment(n) for n in names)


# TF_USE_LEGACY_KERAS outside the code: the process environment, else a .env
# file at the project root (what python-dotenv, Poetry, pipenv and editors load).
def _legacy_flag(root: Optional[str]) -> Optional[str]:
    value = os.environ.get("TF_USE_LEGACY_KERAS")
    if value is not None:
        return f"TF_USE_LEGACY_KERAS={value} in the environment" if value.strip() in _TRUE_TEXT else None
    return _dotenv_legacy(root) if root else None


_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?TF_USE_LEGACY_KERAS\s*=\s*([\"']?)([^\"'#\s]*)\1", re.M)


@functools.lru_cache(maxsize=None)
def _dotenv_legacy(root: str) -> Optional[str]:
    file = os.path.join(root, ".env")
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:
            text = handle.read(1 << 20)
    except OSError:
        return None
    values = _DOTENV_LINE.findall(text)
    if values and values[-1][1] in _TRUE_TEXT:  # the last assignment wins, as in a shell
        return f"TF_USE_LEGACY_KERAS={values[-1][1]} in {file}"
    return None


class _Dep(NamedTuple):
    name: str   # PEP 503-normalised
    spec: str   # version constraint text, "" when none
    shown: str  # the requirement as written, for the reason
    file: str


def _pin_signal(start: str, legacy: Optional[str]) -> Optional[ResolvedVersion]:
    """The main dependencies of the nearest project root up from ``start``
    that decides; a root that says nothing hands over to the one above it
    (a nested package without pins inside a pinned repository)."""
    directory: Optional[str] = start
    while directory is not None:
        root = _project_root(directory)
        if root is None:
            return None
        decided = _decide(_pins_in(root, start), legacy)
        if decided is not None:
            return decided
        if os.path.isdir(os.path.join(root, ".git")):
            return None  # the repository's top: what lies above is not this project
        parent = os.path.dirname(root)
        directory = None if parent == root else parent
    return None


def _decide(deps: "Tuple[_Dep, ...]", legacy: Optional[str]) -> Optional[ResolvedVersion]:
    """Keras 2 or 3 from main dependencies. TensorFlow 2.16 switched tf.keras
    to Keras 3; tf-keras makes it Keras 2 again only with TF_USE_LEGACY_KERAS."""
    def found(version: KerasVersion, dep: _Dep, extra: str = "") -> ResolvedVersion:
        return ResolvedVersion(version, f"pin '{dep.shown}' in {dep.file}{extra}")

    tf_keras = next((d for d in deps if d.name == "tf-keras"), None)
    if tf_keras is not None and legacy:
        return found(KERAS2, tf_keras, f" with {legacy}")
    for dep in deps:
        if dep.name == "keras" and (v := _keras_pin(dep.spec)):
            return found(v, dep)
    for dep in deps:
        if dep.name in _TENSORFLOW and (v := _tensorflow_pin(dep.spec)):
            return found(v, dep)
    if tf_keras is not None and (v := _tensorflow_pin(tf_keras.spec)):
        return found(v, tf_keras)  # tf-keras X.Y is released with (and requires) TensorFlow X.Y
    return None


@functools.lru_cache(maxsize=None)
def _pins_in(root: str, start: str) -> "Tuple[_Dep, ...]":
    """The main dependencies declared in ``root``: requirements files from
    the folder nearest ``start`` up to the root first, then the root's
    metadata files, in a fixed order. Extras and dev groups are left out."""
    files = []
    folder = start
    while True:  # requirements*.txt nearest the file first
        files += [(f, _requirements_deps) for f in _listed(folder, _is_requirements)]
        if folder == root or os.path.dirname(folder) == folder or not folder.startswith(root):
            break
        folder = os.path.dirname(folder)
    in_folder = _listed(os.path.join(root, "requirements"), lambda n: n.endswith(".txt"))
    files += [(f, _requirements_deps) for f in in_folder]
    files += [(os.path.join(root, "pyproject.toml"), _pyproject_deps),
              (os.path.join(root, "setup.cfg"), _setup_cfg_deps),
              (os.path.join(root, "setup.py"), _setup_py_deps),
              (os.path.join(root, "Pipfile"), _pipfile_deps)]
    files += [(f, _conda_deps) for f in _listed(root, _is_conda_environment)]
    deps = []
    for file, reader in files:
        if not os.path.isfile(file):
            continue
        try:
            deps += list(reader(file))
        except Exception:  # unreadable or malformed: never our error to report
            continue
    return tuple(deps)


def _listed(folder: str, wanted) -> "list[str]":
    try:
        return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if wanted(n)]
    except OSError:
        return []


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)", re.S)


def _requirement(text: str, file: str) -> Iterator[_Dep]:
    """Parse one PEP 508 requirement string (markers dropped)."""
    text = text.split(";", 1)[0].strip()
    m = _REQUIREMENT.fullmatch(text)
    if m is None:
        return
    spec = m[2].strip()
    if spec.startswith("@"):
        spec = ""  # direct URL: no version information
    elif spec.startswith("(") and spec.endswith(")"):
        spec = spec[1:-1]  # old "name (>=1.0)" form
    yield _Dep(_normalise(m[1]), spec, text, file)


def _load_toml(file: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10 only
        import tomli as tomllib
    with open(file, "rb") as f:
        return tomllib.load(f)


def _table(data: object, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> Iterable[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _pyproject_deps(file: str) -> Iterator[_Dep]:
    """PEP 621 ``[project] dependencies`` (also what PDM and uv use) and
    Poetry's ``[tool.poetry.dependencies]``; extras and groups left out."""
    data = _load_toml(file)
    for text in _strings(_table(data, "project").get("dependencies")):
        yield from _requirement(text, file)
    poetry = _table(_table(data, "tool"), "poetry")
    yield from _constraint_table(_table(poetry, "dependencies"), file)


def _constraint_table(table: dict, file: str) -> Iterator[_Dep]:
    """Poetry and Pipfile tables: name = "^2.12" / {version = ...} / [...]."""
    for name, value in table.items():
        if isinstance(value, dict) and value.get("optional") is True:
            continue  # only installed with an extra
        spec = _poetry_constraint(value)
        shown = f'{name} = "{spec}"' if spec else name
        yield _Dep(_normalise(name), spec, shown, file)


def _poetry_constraint(value: object) -> str:
    """The version text of a poetry dependency: "^2.12", {version = ...}, or a list of those."""
    if isinstance(value, list):  # multiple-constraint form: the first with a version
        value = next((v for v in value if isinstance(v, dict) and isinstance(v.get("version"), str)), {})
    if isinstance(value, dict):
        value = value.get("version", "")
    return value.strip() if isinstance(value, str) else ""


def _pipfile_deps(file: str) -> Iterator[_Dep]:
    yield from _constraint_table(_table(_load_toml(file), "packages"), file)  # not [dev-packages]


def _setup_cfg_deps(file: str) -> Iterator[_Dep]:
    import configparser  # only projects with a setup.cfg need it

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(file, encoding="utf-8")
    if not parser.has_option("options", "install_requires"):
        return
    value = parser.get("options", "install_requires")
    # setuptools: one per line, or ";"-separated when on a single line
    items = value.splitlines() if "\n" in value else value.split(";")
    for item in items:
        item = item.strip()
        if item and not item.startswith("#"):
            yield from _requirement(item, file)


def _setup_py_deps(file: str) -> Iterator[_Dep]:
    """``install_requires`` of a setup() call, read with ast (never run): a
    literal list, or a module-level name bound to one."""
    import ast

    with open(file, "rb") as handle:
        tree = ast.parse(handle.read(1 << 22), file)
    lists = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    lists[target.id] = node.value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg != "install_requires":
                continue
            value = keyword.value
            if isinstance(value, ast.Name):
                value = lists.get(value.id)
            if isinstance(value, (ast.List, ast.Tuple)):
                for item in value.elts:
                    if isinstance(item, ast.Constant) and isinstance(item.value, str):
                        yield from _requirement(item.value, file)


_CONDA_SPEC = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)")


def _conda_deps(file: str) -> Iterator[_Dep]:
    """The ``dependencies`` list of a conda environment file and its ``pip``
    sub-list. Only the subset of YAML these files use: block lists of plain
    or quoted scalars (no YAML library needed)."""
    with open(file, encoding="utf-8", errors="replace") as handle:
        lines = handle.read(1 << 20).splitlines()
    in_deps = False
    pip_indent: Optional[int] = None
    for raw in lines:
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_deps = line.startswith("dependencies:")
            pip_indent = None
            continue
        item = line.strip()
        if not in_deps or not item.startswith("- "):
            continue
        item = item[2:].strip().strip("\"'")
        if pip_indent is not None and indent <= pip_indent:
            pip_indent = None
        if item.rstrip(":").strip() == "pip" and item.endswith(":"):
            pip_indent = indent
            continue
        if pip_indent is not None:
            yield from _requirement(item, file)
            continue
        item = item.split("::")[-1]  # channel::name
        m = _CONDA_SPEC.fullmatch(item)
        if m is None:
            continue
        spec = m[2].strip()
        if spec and spec[0].isdigit():
            spec = "==" + spec.split()[0]  # "keras 2.12.*": the version (then the build string)
        elif spec.startswith("=") and not spec.startswith("=="):
            spec = "==" + spec[1:].split("=")[0] + ("" if spec.endswith("*") else ".*")  # fuzzy =2.12
        yield _Dep(_normalise(m[1]), spec, item, file)


def _requirements_deps(file: str, seen: "Optional[set]" = None) -> Iterator[_Dep]:
    seen = set() if seen is None else seen
    real = os.path.realpath(file)
    if real in seen or len(seen) > 50:
        return  # an include loop, or an include tree no project has
    seen.add(real)
    with open(file, encoding="utf-8", errors="replace") as handle:
        text = handle.read(1 << 20).replace("\\\n", " ")
    for line in text.splitlines():
        line = re.sub(r"(?:^|\s)#.*", "", line).strip()     # comments
        include = re.match(r"(?:-r|--requirement)(?:\s*=\s*|\s+|(?=[^\s=]))(\S+)", line)
        if include:
            try:
                yield from _requirements_deps(os.path.join(os.path.dirname(file), include[1]), seen)
            except OSError:  # a missing include: the rest of this file still counts
                pass
            continue
        line = re.split(r"\s--?[A-Za-z]", line)[0].strip()  # trailing --hash=... options
        if line and not line.startswith("-"):       # -c, -e, --index-url, ...
            yield from _requirement(line, file)


_CLAUSE = re.compile(r"(===|~=|==|!=|<=|>=|<|>|\^|~|=)?\s*v?([0-9]+(?:\.[0-9]+)*)(\.\*)?[A-Za-z0-9.+!_-]*")
_SEPARATOR = re.compile(r"[\s,]*")
_Version = Tuple[int, int, int]


def _pad(nums: Tuple[int, ...]) -> _Version:
    return (tuple(nums) + (0, 0, 0))[:3]  # type: ignore[return-value]


def _bump(nums: Tuple[int, ...]) -> _Version:
    return _pad(nums[:-1] + (nums[-1] + 1,))


@dataclass
class _Bounds:
    """The interval a specifier allows, plus the version it names (``anchor``)."""
    low: Optional[_Version] = None
    high: Optional[_Version] = None
    high_inclusive: bool = False
    anchor: Optional[_Version] = None

    def cap(self, version: _Version, inclusive: bool) -> None:
        if self.high is None or version < self.high or (version == self.high and not inclusive):
            self.high, self.high_inclusive = version, inclusive

    def all_below(self, version: _Version) -> bool:
        if self.high is None:
            return False
        return self.high < version or (self.high == version and not self.high_inclusive)

    def newest(self) -> Optional[KerasVersion]:
        """The newest allowed minor release (patch dropped for exclusive bounds)."""
        if self.high is None:
            return None
        major, minor, patch = self.high
        if self.high_inclusive:
            return KerasVersion(major, minor, patch)
        if patch:
            return KerasVersion(major, minor)
        return KerasVersion(major, minor - 1) if minor else KerasVersion(major - 1, 99)


def _bounds(spec: str) -> Optional[_Bounds]:
    """Parse a specifier like ">=2.12,<2.16" or "^2.12"; None when unreadable."""
    b = _Bounds()
    pos = 0
    while True:
        pos = _SEPARATOR.match(spec, pos).end()  # type: ignore[union-attr]
        if pos >= len(spec):
            return b
        if spec[pos] == "*":  # poetry's "any version"
            pos += 1
            continue
        m = _CLAUSE.match(spec, pos)
        if m is None:
            return None
        pos = m.end()
        op, wildcard = m[1] or "==", bool(m[3])
        nums = tuple(int(n) for n in m[2].split("."))
        version = _pad(nums)
        exact = op in ("==", "===", "=") and not wildcard
        if op == "!=":
            continue
        if op in ("<", "<="):
            b.cap(version, op == "<=")
            continue
        b.low = max(b.low, version) if b.low else version
        if op in (">=", ">"):
            continue  # ">" treated as ">=": close enough at minor granularity
        if exact:
            b.cap(version, True)
        elif op in ("==", "===", "="):  # wildcard: ==2.14.* is <2.15
            b.cap(_bump(nums), False)
        elif op == "~=":                # ~=2.12 is <3, ~=2.12.0 is <2.13
            b.cap(_bump(nums[:-1] if len(nums) > 1 else nums), False)
        elif op == "^":                 # poetry caret: bump the first non-zero part
            first = next((i for i, n in enumerate(nums) if n), len(nums) - 1)
            b.cap(_bump(nums[: first + 1]), False)
        else:                           # poetry tilde: ~2.12 is <2.13, ~2 is <3
            b.cap(_bump(nums[:2]), False)
        if b.anchor is None and (exact or len(nums) >= 2):
            b.anchor = version


def _keras_pin(spec: str) -> Optional[KerasVersion]:
    b = _bounds(spec)
    if b is None:
        return None
    if b.all_below((3, 0, 0)):
        return KERAS2
    if b.anchor is not None:
        return KerasVersion(*b.anchor) if b.anchor[0] == 3 else None
    if b.low is None and b.high is None:
        return None  # bare "keras" says nothing about the version
    # A pure range: assume the measured release, moved into the range.
    version = max(KerasVersion(*b.low), KERAS3_MEASURED) if b.low else KERAS3_MEASURED
    newest = b.newest()
    if newest is not None and newest < version:
        version = newest
    return version if version.major == 3 else None


def _tensorflow_pin(spec: str) -> Optional[KerasVersion]:
    # TensorFlow 2.16 switched tf.keras from Keras 2 to Keras 3.
    b = _bounds(spec)
    if b is None:
        return None
    if b.all_below((2, 16, 0)):
        return KERAS2
    if b.low is not None and b.low >= (2, 16, 0):
        return KERAS3_MEASURED
    return None  # straddles 2.16 (e.g. ^2.12): let installed packages decide


# --- 3. the project's own interpreter environment ---------------------------------

_ENV_FOLDERS = (".venv", "venv", "env")


def _project_environment(root: str, python: Optional[str]) -> Optional[str]:
    """The prefix of the project's environment, found as editors and type
    checkers find it: ``python`` (an interpreter or environment folder),
    else $VIRTUAL_ENV / $CONDA_PREFIX, else .venv, venv or env at the project
    root. pre-commit runs hooks with $VIRTUAL_ENV set to the hook's own
    environment, which says nothing about the project: that one is skipped."""
    if python:
        return _prefix_of(python)
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        value = os.environ.get(variable)
        if value and not _is_hook_environment(value):
            return os.path.abspath(value)
    for name in _ENV_FOLDERS:
        candidate = os.path.join(root, name)
        if any(os.path.exists(os.path.join(candidate, marker)) for marker in ("pyvenv.cfg", "conda-meta")):
            return candidate
    return None


def _is_hook_environment(prefix: str) -> bool:
    same = os.path.realpath(prefix) == os.path.realpath(sys.prefix)
    return same and os.environ.get("PRE_COMMIT") == "1"


def _prefix_of(python: str) -> str:
    """An environment folder, or the one holding an interpreter (bin/python,
    Scripts\\python.exe, a conda env's python)."""
    full = os.path.abspath(os.path.expanduser(python))
    if os.path.isdir(full):
        return full
    folder = os.path.dirname(full)
    return os.path.dirname(folder) if os.path.basename(folder) in ("bin", "Scripts") else folder


def _site_packages(prefix: str) -> "list[str]":
    found = []
    for lib in ("lib", "lib64"):
        for name in _listed(os.path.join(prefix, lib), lambda n: n.startswith(("python", "pypy"))):
            found.append(os.path.join(name, "site-packages"))
    found.append(os.path.join(prefix, "Lib", "site-packages"))  # Windows
    return [f for f in found if os.path.isdir(f)]


@functools.lru_cache(maxsize=None)
def _distributions(prefix: str) -> "Tuple[Tuple[str, str], ...]":
    """(normalised name, version) of what is installed in the environment,
    from the names of its ``name-version.dist-info`` / ``.egg-info`` folders
    (the version inside PKG-INFO/METADATA when the name has none)."""
    found: "dict[str, str]" = {}
    for entry in _site_packages(prefix):
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        for folder in names:
            stem, _, kind = folder.rpartition(".")
            if kind not in ("dist-info", "egg-info"):
                continue
            project, _, version = stem.partition("-")
            if not version:  # a develop-mode "name.egg-info": the version is inside
                version = _metadata_version(os.path.join(entry, folder)) or ""
            if version:
                found.setdefault(_normalise(project), version.split("-")[0])
    return tuple(sorted(found.items()))


def _metadata_version(folder: str) -> Optional[str]:
    for name in ("PKG-INFO", "METADATA"):
        try:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.startswith("Version:"):
                        return line.split(":", 1)[1].strip()
                    if not line.strip():
                        break
        except OSError:
            continue
    return None


def _release(text: str) -> Optional[_Version]:
    m = re.match(r"\s*([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?", text)
    return (int(m[1]), int(m[2] or 0), int(m[3] or 0)) if m else None


def _environment_signal(prefix: str, legacy: Optional[str]) -> Optional[ResolvedVersion]:
    installed = dict(_distributions(prefix))
    where = f"in {prefix}"
    tf_keras = installed.get("tf-keras")
    if tf_keras and legacy:
        return ResolvedVersion(KERAS2, f"tf-keras {tf_keras} installed {where} with {legacy}")
    keras = installed.get("keras")
    release = _release(keras) if keras else None
    if release and release[0] == 3:
        return ResolvedVersion(KerasVersion(*release), f"keras {keras} installed {where}")
    if release and release[0] == 2:
        return ResolvedVersion(KERAS2, f"keras {keras} installed {where}")
    tf = next(((n, installed[n]) for n in _TENSORFLOW if n in installed), None)
    tf_release = _release(tf[1]) if tf else None
    if tf and tf_release:
        version = KERAS2 if tf_release < (2, 16, 0) else KERAS3_MEASURED
        return ResolvedVersion(version, f"{tf[0]} {tf[1]} installed {where}")
    return None


# --- applicability -------------------------------------------------------------

@dataclass(frozen=True)
class VersionRange:
    low: Optional[KerasVersion]   # inclusive, None = unbounded
    high: Optional[KerasVersion]  # inclusive, None = unbounded

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"empty version range: {self.low} > {self.high}")

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, KerasVersion):
            return False
        return (self.low is None or self.low <= version) and (self.high is None or version <= self.high)

    def __or__(self, other: "VersionRange | VersionSet") -> "VersionSet":
        return VersionSet(self, other)

    def __str__(self) -> str:
        return f"Keras {self._text()}"

    def _text(self) -> str:
        """The part after "Keras ": "2", "3", "2, 3", "3.0–3.15", "3.16+"."""
        low, high = self.low, self.high
        if low is None or low == KerasVersion(2, 0):  # from the start of Keras 2
            if high is None:
                return "2, 3"
            if high.major == 2 and high.minor >= 99:
                return "2"
            if high.major >= 3:
                return "2, " + VersionRange(KerasVersion(3, 0), high)._text()
            return f"2.0–{_upper_text(high)}"
        if high is None:
            return "3" if low == KerasVersion(3, 0) else f"{low}+"
        if high.major == low.major and high.minor >= 99 and low.minor == 0 and low.patch == 0:
            return str(low.major)  # a whole major, e.g. 3.0–3.99
        return f"{low}–{_upper_text(high)}"


def _upper_text(v: KerasVersion) -> str:
    # (3, 15, 99) reads as "3.15"; (2, 99) as "2".
    if v.minor >= 99:
        return str(v.major)
    return f"{v.major}.{v.minor}" if v.patch >= 99 else str(v)


@dataclass(frozen=True, init=False)
class VersionSet:
    """A union of ``VersionRange``s, kept sorted by lower bound."""
    ranges: Tuple[VersionRange, ...]

    def __init__(self, *ranges: "VersionRange | VersionSet") -> None:
        flat = []
        for r in ranges:
            flat.extend(r.ranges if isinstance(r, VersionSet) else [r])
        flat.sort(key=lambda r: r.low or KerasVersion(0, 0))
        object.__setattr__(self, "ranges", tuple(flat))

    def __contains__(self, version: object) -> bool:
        return any(version in r for r in self.ranges)

    def __or__(self, other: "VersionRange | VersionSet") -> "VersionSet":
        return VersionSet(self, other)

    def __str__(self) -> str:
        if not self.ranges:
            return "no Keras version"
        return "Keras " + ", ".join(r._text() for r in self.ranges)


ALL = VersionRange(None, None)
KERAS2_ONLY = VersionRange(None, KerasVersion(2, 99))
KERAS3 = VersionRange(KerasVersion(3, 0), None)
KERAS3_TO_315 = VersionRange(KerasVersion(3, 0), KerasVersion(3, 15, 99))
KERAS3_FROM_316 = VersionRange(KerasVersion(3, 16), None)
KERAS2_AND_316 = VersionSet(KERAS2_ONLY, KERAS3_FROM_316)
