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
    2. dependency pins in the project root (the nearest ancestor directory with
       pyproject.toml, setup.cfg, setup.py, requirements*.txt or .git):
       tf-keras listed at all beats a keras pin, which beats a tensorflow pin;
    3. the installed distributions (their metadata folders on sys.path);
    4. ``KERAS3_MEASURED``.

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
    "ResolvedVersion", "resolve_version", "project_version", "clear_caches",
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
    reason: str  # human text for --verbose / diagnostics


def resolve_version(
    setting: str,
    path: "str | os.PathLike[str] | None",
    source: bytes,
    *,
    setting_origin: str = "--keras-version",
) -> ResolvedVersion:
    """The Keras version to lint ``source`` (read from ``path``) against.

    Raises ValueError only for an invalid explicit ``setting``.
    """
    if setting.strip().lower() != "auto":
        return ResolvedVersion(parse_keras_version(setting), f"set by {setting_origin}")
    return (
        _file_signal(source)
        or project_version(path)
        or ResolvedVersion(KERAS3_MEASURED, "default (no signal found)")
    )


def project_version(path: "str | os.PathLike[str] | None") -> Optional[ResolvedVersion]:
    """What the project around ``path`` says (its pins, then the installed
    packages), leaving the file's own content aside; None when it says nothing."""
    return _pin_signal(_project_root(_start_dir(path))) or _installed_signal()


def clear_caches() -> None:
    """Forget cached project roots, pins and installed versions (tests, servers)."""
    _project_root.cache_clear()
    _is_project_root.cache_clear()
    _pin_signal.cache_clear()
    _installed_signal.cache_clear()
    _installed_distributions.cache_clear()


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


# --- 2. dependency pins in the project ---------------------------------------

_ROOT_MARKERS = frozenset({"pyproject.toml", "setup.cfg", "setup.py", ".git"})
_TENSORFLOW = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel")


def _is_requirements(name: str) -> bool:
    return name.startswith("requirements") and name.endswith(".txt")


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
    return any(n in _ROOT_MARKERS or _is_requirements(n) for n in names)


class _Dep(NamedTuple):
    name: str   # PEP 503-normalised
    spec: str   # version constraint text, "" when none
    shown: str  # the requirement as written, for the reason
    file: str


@functools.lru_cache(maxsize=None)
def _pin_signal(root: Optional[str]) -> Optional[ResolvedVersion]:
    if root is None:
        return None
    deps = list(_dependencies(root))

    def found(version: KerasVersion, dep: _Dep) -> ResolvedVersion:
        return ResolvedVersion(version, f"pin '{dep.shown}' in {dep.file}")

    for dep in deps:
        if dep.name == "tf-keras":  # listed at all: the project uses Keras 2
            return found(KERAS2, dep)
    for dep in deps:
        if dep.name == "keras" and (v := _keras_pin(dep.spec)):
            return found(v, dep)
    for dep in deps:
        if dep.name in _TENSORFLOW and (v := _tensorflow_pin(dep.spec)):
            return found(v, dep)
    return None


def _dependencies(root: str) -> Iterator[_Dep]:
    """Every dependency listed in the root, in a fixed file order."""
    files = [(os.path.join(root, "pyproject.toml"), _pyproject_deps),
             (os.path.join(root, "setup.cfg"), _setup_cfg_deps)]
    for folder in (root, os.path.join(root, "requirements")):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            if (_is_requirements(name) if folder == root else name.endswith(".txt")):
                files.append((os.path.join(folder, name), _requirements_deps))
    for file, reader in files:
        if not os.path.isfile(file):
            continue
        try:
            deps = list(reader(file))
        except Exception:  # unreadable or malformed: never our error to report
            continue
        yield from deps


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
    data = _load_toml(file)
    project = _table(data, "project")
    lists = [project.get("dependencies")]
    lists += list(_table(project, "optional-dependencies").values())
    lists += list(_table(data, "dependency-groups").values())  # PEP 735
    for entries in lists:
        for text in _strings(entries):
            yield from _requirement(text, file)

    poetry = _table(_table(data, "tool"), "poetry")
    tables = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    tables += [_table(group, "dependencies") for group in _table(poetry, "group").values()]
    for table in tables:
        for name, value in table.items():
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


def _setup_cfg_deps(file: str) -> Iterator[_Dep]:
    import configparser  # only projects with a setup.cfg need it

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(file, encoding="utf-8")
    values = []
    if parser.has_option("options", "install_requires"):
        values.append(parser.get("options", "install_requires"))
    if parser.has_section("options.extras_require"):
        values += [v for _, v in parser.items("options.extras_require")]
    for value in values:
        # setuptools: one per line, or ";"-separated when on a single line
        items = value.splitlines() if "\n" in value else value.split(";")
        for item in items:
            item = item.strip()
            if item and not item.startswith("#"):
                yield from _requirement(item, file)


def _requirements_deps(file: str) -> Iterator[_Dep]:
    with open(file, encoding="utf-8", errors="replace") as handle:
        text = handle.read().replace("\\\n", " ")
    for line in text.splitlines():
        line = re.sub(r"(?:^|\s)#.*", "", line)     # comments
        line = re.split(r"\s--?[A-Za-z]", line)[0].strip()  # trailing --hash=... options
        if line and not line.startswith("-"):       # -r, -c, -e, --index-url, ...
            yield from _requirement(line, file)


# A specifier clause: PEP 440 operators plus poetry's ^, ~ and "=" / bare version.
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


# --- 3. installed distributions ----------------------------------------------

def _installed_version(name: str) -> Optional[str]:
    """The installed version of a distribution, or None (tests monkeypatch this)."""
    return _installed_distributions().get(_normalise(name))


@functools.lru_cache(maxsize=1)
def _installed_distributions() -> "dict[str, str]":
    """Normalised name -> version of what is installed on sys.path, the first
    found winning, as importlib.metadata finds them: from the names of the
    ``name-version.dist-info`` (and ``.egg-info``) folders. Importing
    importlib.metadata alone costs more than a whole warm run."""
    found: "dict[str, str]" = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or os.curdir)
        except OSError:
            continue
        for folder in names:
            stem, dot, kind = folder.rpartition(".")
            if kind not in ("dist-info", "egg-info"):
                continue
            project, _, version = stem.partition("-")
            if not version:  # a develop-mode "name.egg-info": the version is inside
                version = _metadata_version(os.path.join(entry or os.curdir, folder)) or ""
            if version:
                found.setdefault(_normalise(project), version.split("-")[0])
    return found


def _metadata_version(folder: str) -> Optional[str]:
    try:
        with open(os.path.join(folder, "PKG-INFO"), encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
                if not line.strip():
                    break
    except OSError:
        pass
    return None


def _release(text: str) -> Optional[_Version]:
    m = re.match(r"\s*([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?", text)
    return (int(m[1]), int(m[2] or 0), int(m[3] or 0)) if m else None


@functools.lru_cache(maxsize=1)
def _installed_signal() -> Optional[ResolvedVersion]:
    keras = _installed_version("keras")
    release = _release(keras) if keras else None
    if release and release[0] == 3:
        return ResolvedVersion(KerasVersion(*release), f"installed keras {keras}")
    if release and release[0] == 2:
        return ResolvedVersion(KERAS2, f"installed keras {keras}")

    tf = next(((n, v) for n in _TENSORFLOW if (v := _installed_version(n))), None)
    tf_release = _release(tf[1]) if tf else None
    if tf and tf_release and tf_release < (2, 16, 0):
        return ResolvedVersion(KERAS2, f"installed {tf[0]} {tf[1]}")

    legacy = os.environ.get("TF_USE_LEGACY_KERAS")
    tf_keras = _installed_version("tf-keras")
    if tf_keras and legacy in ("1", "true", "True"):
        return ResolvedVersion(KERAS2, f"installed tf-keras {tf_keras} with TF_USE_LEGACY_KERAS={legacy}")
    if tf and tf_release:
        return ResolvedVersion(KERAS3_MEASURED, f"installed {tf[0]} {tf[1]}")
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
