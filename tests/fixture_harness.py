"""Shared harness for the executable rule fixtures in ``fixtures/KMxxx/``.

A fixture is a small, runnable user program. Its comments declare

* lint expectations -- ``# expect: KM101`` / ``# expect(3): KM202`` /
  ``# expect(2, 3.16): KM203`` on the line where a finding must be reported;
* run-time expectations -- ``# observe(k3, tfk): key=value ...``; the program
  prints exactly one ``OBSERVED key=value ...`` line;
* what the program prints once its findings are fixed -- ``# observe-after-fix(k3):
  key=value ...`` (flagged fixtures of rules that offer a fix).

See ``fixtures/README.md`` for the full format.

By hand::

    python tests/fixture_harness.py fixtures/KM101/flagged_custom_loop.py k3
    python tests/fixture_harness.py fixtures/KM101/flagged_custom_loop.py  # both
"""
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tokenize
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = REPO_ROOT / "fixtures"

#: the ``--keras-version`` settings every fixture is linted under
KERAS_VERSIONS = ("2", "3", "3.16")
#: run-time flavours: Keras 3 with the TensorFlow backend, tf_keras, Keras 3
#: with the JAX backend, and keras-nightly (3.16 dev) on the TensorFlow and
#: the JAX backend (the last three only for fixtures that declare them)
FLAVOURS = ("k3", "tfk", "k3jax", "k3dev", "k3devjax")
#: the keras-nightly measured as "Keras 3.16"; installed beside the test
#: environment's TensorFlow with ``pip install --no-deps --target DIR``
K3DEV_REQUIREMENT = "keras-nightly==3.16.0.dev2026102704"
#: where that install lives: $KM_K3DEV_PATH, else ``.k3dev`` in the repository
K3DEV_DEFAULT_PATH = REPO_ROOT / ".k3dev"


def k3dev_path():
    """The folder holding keras-nightly, put first on PYTHONPATH for k3dev."""
    return Path(os.environ.get("KM_K3DEV_PATH") or K3DEV_DEFAULT_PATH)

_CODE = r"KM\d{3}"
_EXPECT_RE = re.compile(
    r"expect\s*(?:\((?P<versions>[^)]*)\))?\s*:\s*"
    rf"(?P<codes>{_CODE}(?:\s*,\s*{_CODE})*)\s*$"
)
_OBSERVE_RE = re.compile(
    r"observe\s*\((?P<flavours>[^)]*)\)\s*:\s*(?P<pairs>\S.*?)\s*$"
)
_AFTER_FIX_RE = re.compile(
    r"observe-after-fix\s*\((?P<flavours>[^)]*)\)\s*:\s*(?P<pairs>\S.*?)\s*$"
)
#: the --keras-version a fixture is fixed under before it runs in a flavour
FIX_VERSION = {"k3": "3", "k3jax": "3", "tfk": "2", "k3dev": "3.16", "k3devjax": "3.16"}
_PAIR_RE = re.compile(r"^(?P<key>[A-Za-z_]\w*)=(?P<value>[^\s=]+)$")


class FixtureFormatError(ValueError):
    """A fixture's expect/observe comment is malformed."""


def fixture_files(code=None):
    """Sorted fixture paths: ``fixtures/KM*/**/*.py`` (or one rule's)."""
    pattern = f"{code}/**/*.py" if code else "KM*/**/*.py"
    return sorted(p for p in FIXTURES_DIR.glob(pattern) if p.is_file())


def _comments(path):
    """(line, text-after-'#') for every comment *part* of the file.

    Comments are read with ``tokenize``, so ``# expect:`` inside a string
    is not a comment. A comment holding several ``#`` parts
    (``# expect: KM101  # noqa``) yields each part separately.
    """
    source = Path(path).read_bytes()
    for tok in tokenize.tokenize(io.BytesIO(source).readline):
        if tok.type == tokenize.COMMENT:
            for part in tok.string.split("#")[1:]:
                yield tok.start[0], part.strip()


def parse_expectations(path):
    """``{keras_version: {(line, code), ...}}`` for every version setting.

    ``# expect: KM101`` applies to all settings in ``KERAS_VERSIONS``;
    ``# expect(2, 3.16): KM203`` only to the listed ones.
    """
    result = {v: set() for v in KERAS_VERSIONS}
    for line, text in _comments(path):
        if not re.match(r"expect\s*[(:]", text):
            continue
        m = _EXPECT_RE.match(text)
        if not m:
            raise FixtureFormatError(
                f"{path}:{line}: malformed expect comment {text!r}")
        if m.group("versions") is None:
            versions = KERAS_VERSIONS
        else:
            versions = tuple(v.strip() for v in m.group("versions").split(","))
            bad = [v for v in versions if v not in KERAS_VERSIONS]
            if bad or not versions:
                raise FixtureFormatError(
                    f"{path}:{line}: unknown keras version(s) {bad} in "
                    f"{text!r}; allowed: {', '.join(KERAS_VERSIONS)}")
        for code in re.findall(_CODE, m.group("codes")):
            for v in versions:
                result[v].add((line, code))
    return result


def parse_observations(path, after_fix=False):
    """``{flavour: {key: value}}`` from the ``# observe(...)`` comments (with
    ``after_fix``, from the ``# observe-after-fix(...)`` ones).

    Several lines may declare the same flavour; their keys are merged, but
    a key may be declared only once per flavour.
    """
    start, pattern = (r"observe-after-fix\s*\(", _AFTER_FIX_RE) if after_fix else (r"observe\s*\(", _OBSERVE_RE)
    result = {}
    for line, text in _comments(path):
        if not re.match(start, text):
            continue
        m = pattern.match(text)
        if not m:
            raise FixtureFormatError(
                f"{path}:{line}: malformed observe comment {text!r}")
        flavours = [f.strip() for f in m.group("flavours").split(",")]
        bad = [f for f in flavours if f not in FLAVOURS]
        if bad or not flavours:
            raise FixtureFormatError(
                f"{path}:{line}: unknown flavour(s) {bad}; "
                f"allowed: {', '.join(FLAVOURS)}")
        pairs = _parse_pairs(m.group("pairs").split(), f"{path}:{line}")
        for flavour in flavours:
            declared = result.setdefault(flavour, {})
            for key, value in pairs.items():
                if key in declared:
                    raise FixtureFormatError(
                        f"{path}:{line}: {key!r} declared twice for {flavour}")
                declared[key] = value
    return result


def fixed_source(path, flavour):
    """The fixture's bytes after every fix (safe and unsafe) of its rule, as
    ``--fix --unsafe-fixes`` would write them under ``FIX_VERSION[flavour]``,
    and how many fixes were applied."""
    from kerasmode_lint.engine.autofix import PythonFile, fix_file
    from kerasmode_lint.engine.options import LintOptions

    path = Path(path)
    options = LintOptions(enabled=frozenset({path.parent.name}), keras_version=FIX_VERSION[flavour])
    fixed, _, applied = fix_file(PythonFile(str(path), path.read_bytes()), options, unsafe=True)
    return fixed.data, applied


def _parse_pairs(words, where):
    pairs = {}
    for word in words:
        m = _PAIR_RE.match(word)
        if not m:
            raise FixtureFormatError(f"{where}: expected key=value, got {word!r}")
        if m.group("key") in pairs:
            raise FixtureFormatError(f"{where}: key {m.group('key')!r} repeated")
        pairs[m.group("key")] = m.group("value")
    return pairs


def _require_tensorflow(flavour):
    """Fail (never skip) when the run-time dependencies are missing."""
    needed = ["tensorflow"] + (["tf_keras"] if flavour == "tfk" else ["keras"])
    if flavour.endswith("jax"):
        needed.append("jax")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if flavour.startswith("k3dev") and not any(k3dev_path().glob("keras_nightly-3.16.*.dist-info")):
        raise AssertionError(
            f"cannot run fixtures under {flavour!r}: no keras-nightly 3.16 in {k3dev_path()} "
            f"($KM_K3DEV_PATH). Install it with: python -m pip install --no-deps "
            f"--target {k3dev_path()} '{K3DEV_REQUIREMENT}'")
    if missing:
        raise AssertionError(
            f"cannot run fixtures under {flavour!r}: {', '.join(missing)} not "
            f"importable by {sys.executable}. The fixture run-time tests need "
            "the test extras: pip install -e '.[test]' (tensorflow-cpu, tf-keras, jax).")


def fixture_env(flavour):
    """The environment a fixture runs in for `flavour` (one of FLAVOURS)."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}; allowed: {FLAVOURS}")
    env = dict(os.environ)
    if flavour == "tfk":
        env["TF_USE_LEGACY_KERAS"] = "1"
    elif flavour.endswith("jax"):
        env.pop("TF_USE_LEGACY_KERAS", None)
        env["KERAS_BACKEND"] = "jax"
        env["JAX_PLATFORMS"] = "cpu"
    else:
        env.pop("TF_USE_LEGACY_KERAS", None)
        env["KERAS_BACKEND"] = "tensorflow"
    # k3dev: the nightly keras shadows the installed one; TensorFlow and
    # keras's own dependencies come from the test environment
    path = ([str(k3dev_path())] if flavour.startswith("k3dev") else []) + [str(FIXTURES_DIR)]
    env.update(
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONHASHSEED="0",
        CUDA_VISIBLE_DEVICES="",
        PYTHONPATH=os.pathsep.join(path),
    )
    return env


def run_fixture(path, flavour, timeout=300):
    """Run one fixture under `flavour` in its own process; return its
    observed ``{key: value}``.

    Raises AssertionError (with the tail of stderr) if the program fails,
    times out, does not print exactly one ``OBSERVED`` line, or ran under
    another Keras than `flavour` (the ``FLAVOUR`` line printed by
    ``observe.report``).
    """
    _require_tensorflow(flavour)
    path = Path(path).resolve()
    with tempfile.TemporaryDirectory(prefix="km_fixture_") as cwd:
        try:
            proc = subprocess.run(
                [sys.executable, str(path)], cwd=cwd, env=fixture_env(flavour),
                capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"{path.name} [{flavour}] timed out after {timeout}s\n"
                + _tail(exc.stderr)) from None
    if proc.returncode != 0:
        raise AssertionError(
            f"{path.name} [{flavour}] exited with {proc.returncode}; "
            f"last lines of stderr:\n{_tail(proc.stderr)}")
    return _observed(path, flavour, proc.stdout, proc.stderr)


class FixtureServer:
    """One TensorFlow process for `flavour` that runs fixtures one after the
    other (tests/fixture_server.py). A fixture that crashes the process or
    times out fails alone: the server is started again for the next one."""

    def __init__(self, flavour):
        _require_tensorflow(flavour)
        self.flavour = flavour
        self.proc = None
        self.stderr = None

    def _start(self):
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fixture_server.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
            env=fixture_env(self.flavour), text=True, bufsize=1, cwd=tempfile.gettempdir())

    def _stderr_since(self, offset):
        self.stderr.flush()
        self.stderr.seek(offset)
        text = self.stderr.read()
        self.stderr.seek(0, os.SEEK_END)
        return text

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.stdin.close()
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.stderr.close()
            self.proc = None

    def run(self, path, timeout=300):
        """Like run_fixture, in this server's process."""
        import selectors

        path = Path(path).resolve()
        if self.proc is None or self.proc.poll() is not None:
            self.close()
            self._start()
        self.stderr.seek(0, os.SEEK_END)
        offset = self.stderr.tell()
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout)
        answer = self.proc.stdout.readline() if ready else ""
        if not answer:
            timed_out = not ready
            if timed_out:
                self.proc.kill()
            returncode = self.proc.wait()
            stderr = self._stderr_since(offset)
            self.close()
            what = (f"timed out after {timeout}s" if timed_out
                    else f"killed the fixture server (exit code {returncode})")
            raise AssertionError(f"{path.name} [{self.flavour}] {what}; last lines of stderr:\n{_tail(stderr)}")
        result = json.loads(answer)
        stderr = self._stderr_since(offset)
        if result["error"]:
            raise AssertionError(
                f"{path.name} [{self.flavour}] raised:\n{result['error']}\n"
                f"last lines of stderr:\n{_tail(stderr)}")
        return _observed(path, self.flavour, result["stdout"], stderr)


def _observed(path, flavour, stdout, stderr):
    """The ``{key: value}`` of a fixture's single OBSERVED line, after checking
    that it ran under `flavour`."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("OBSERVED ")]
    if len(lines) != 1:
        raise AssertionError(
            f"{path.name} [{flavour}] printed {len(lines)} OBSERVED lines "
            f"(need exactly 1); stdout:\n{stdout[-4000:]}\n"
            f"stderr:\n{_tail(stderr)}")
    ran = [ln.split()[1:] for ln in stdout.splitlines()
           if ln.startswith("FLAVOUR ")]
    if ran != [[flavour]]:
        raise AssertionError(
            f"{path.name} [{flavour}] must run under {flavour!r} but observe.py "
            f"reported FLAVOUR {ran} (a stray `import keras` under tfk, or a "
            "report not made through observe.report?)")
    return _parse_pairs(lines[0].split()[1:], f"{path.name} [{flavour}] output")


def _tail(text, n=40):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join((text or "").splitlines()[-n:])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or len(argv) > 2:
        print(f"usage: fixture_harness.py FIXTURE.py [{'|'.join(FLAVOURS)}]  "
              "(no flavour: k3, tfk, and the others the fixture declares)", file=sys.stderr)
        return 2
    path = Path(argv[0])
    declared = parse_observations(path)
    flavours = [argv[1]] if len(argv) == 2 else [
        f for f in FLAVOURS if f in declared or f in ("k3", "tfk")]
    status = 0
    for flavour in flavours:
        start = time.monotonic()
        observed = run_fixture(path, flavour)
        took = time.monotonic() - start
        pairs = " ".join(f"{k}={v}" for k, v in observed.items())
        want = declared.get(flavour)
        verdict = ("(no observe line)" if want is None
                   else "ok" if want == observed
                   else "MISMATCH, declared: "
                   + " ".join(f"{k}={v}" for k, v in want.items()))
        status |= want is not None and want != observed
        print(f"{flavour}: OBSERVED {pairs}  [{took:.1f}s] {verdict}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
