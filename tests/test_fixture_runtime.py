"""Every fixture runs under real TensorFlow and behaves as it declares.

Each ``# observe(<flavour>): key=value ...`` comment of a fixture becomes
one test: the program is executed under Keras 3 (TensorFlow backend, ``k3``,
or JAX, ``k3jax``), tf_keras (``tfk``) or keras-nightly 3.16 (``k3dev``,
``k3devjax``) and its ``OBSERVED`` line must equal
the declaration exactly. Not skipped when TensorFlow is missing: it fails.

To spare ~280 TensorFlow start-ups, the fixtures of one flavour share one
process per pytest(-xdist) worker (fixture_harness.FixtureServer), each run
in a fresh namespace and working directory with the Keras session cleared in
between; a fixture that crashes or hangs that process fails alone.
``KM_FIXTURE_ISOLATED=1`` runs each fixture in its own process instead.

A flagged fixture's ``# observe-after-fix(<flavour>): ...`` comment is one
more test: the fixture is fixed as ``--fix --unsafe-fixes`` would fix it (its
rule only, under the flavour's Keras version), and the fixed program, run the
same way, must print exactly that.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_harness import (  # noqa: E402
    FIXTURES_DIR,
    FLAVOURS,
    FixtureServer,
    FixtureFormatError,
    fixed_source,
    fixture_env,
    fixture_files,
    parse_expectations,
    parse_observations,
    run_fixture,
)


def _runs():
    for path in fixture_files():
        for flavour in sorted(parse_observations(path)):
            yield pytest.param(
                path, flavour,
                id=f"{path.relative_to(FIXTURES_DIR).as_posix()}-{flavour}")


@pytest.fixture(scope="module")
def servers():
    started = {}
    yield started
    for server in started.values():
        server.close()


def observe_fixture(path, flavour, servers):
    if os.environ.get("KM_FIXTURE_ISOLATED") == "1":
        return run_fixture(path, flavour)
    if flavour not in servers:
        servers[flavour] = FixtureServer(flavour)
    return servers[flavour].run(path)


@pytest.mark.tensorflow
@pytest.mark.parametrize("path, flavour", list(_runs()))
def test_fixture_behaves_as_declared(path, flavour, servers):
    declared = parse_observations(path)[flavour]
    observed = observe_fixture(path, flavour, servers)
    assert observed == declared, (
        f"{path.name} under {flavour}: observed {observed}, declared {declared}")


def _fixed_runs():
    for path in fixture_files():
        for flavour in sorted(parse_observations(path, after_fix=True)):
            yield pytest.param(
                path, flavour,
                id=f"{path.relative_to(FIXTURES_DIR).as_posix()}-{flavour}")


@pytest.mark.tensorflow
@pytest.mark.parametrize("path, flavour", list(_fixed_runs()))
def test_fixed_fixture_behaves_as_declared(path, flavour, servers, tmp_path):
    declared = parse_observations(path, after_fix=True)[flavour]
    data, applied = fixed_source(path, flavour)
    assert applied, f"{path.name}: no fix applied under {flavour}"
    fixed = tmp_path / path.name
    fixed.write_bytes(data)
    observed = observe_fixture(fixed, flavour, servers)
    assert observed == declared, (
        f"{path.name} fixed, under {flavour}: observed {observed}, declared {declared}")


def test_fixtures_exist():
    assert fixture_files(), f"no fixtures found under {FIXTURES_DIR}"


@pytest.mark.parametrize(
    "path", fixture_files(),
    ids=[p.relative_to(FIXTURES_DIR).as_posix() for p in fixture_files()])
def test_every_fixture_is_executed(path):
    assert parse_observations(path), (
        f"{path} has no '# observe(k3, tfk): key=value' line, so it is never run")


@pytest.mark.parametrize(
    "rule_dir", sorted(p for p in FIXTURES_DIR.glob("KM*") if p.is_dir()),
    ids=lambda p: p.name)
def test_rule_folder_has_flagged_and_clean_fixtures(rule_dir):
    files = fixture_files(rule_dir.name)
    flagged = [p for p in files if any(parse_expectations(p).values())]
    clean = [p for p in files if not any(parse_expectations(p).values())]
    assert flagged, f"{rule_dir.name}: no fixture with an '# expect' comment"
    assert clean, f"{rule_dir.name}: no fix / look-alike fixture (without expect)"


# ---------------------------------------------------------------- the parser

def test_parser_reads_comments_only(tmp_path):
    f = tmp_path / "sample.py"
    f.write_text(
        "# observe(k3, tfk): dropout=keep\n"
        "# observe(tfk): bn=frozen\n"
        "# observe(k3): bn=updated\n"
        's = "model(x)  # expect: KM101"\n'
        '"""\n# expect: KM102\n"""\n'
        "y = model(x)  # expect: KM101, KM202\n"
        "z = layer(x)  # expect(3): KM203  # noqa\n"
        "w = layer(x)  # expect(2, 3.16): KM204\n"
        "# we expect the loss to drop; observe that this is prose\n"
    )
    assert parse_expectations(f) == {
        "2": {(8, "KM101"), (8, "KM202"), (10, "KM204")},
        "3": {(8, "KM101"), (8, "KM202"), (9, "KM203")},
        "3.16": {(8, "KM101"), (8, "KM202"), (10, "KM204")},
    }
    assert parse_observations(f) == {
        "k3": {"dropout": "keep", "bn": "updated"},
        "tfk": {"dropout": "keep", "bn": "frozen"},
    }


@pytest.mark.parametrize("comment", [
    "# expect: KM1O1",             # letter O
    "# expect(4): KM101",          # unknown version setting
    "# expect: km101",
    "# observe(k2): a=b",          # unknown flavour
    "# observe(k3): a",            # not key=value
    "# observe(k3): a=b a=c",      # key repeated
])
def test_parser_rejects_malformed_comments(tmp_path, comment):
    f = tmp_path / "bad.py"
    f.write_text(f"x = 1  {comment}\n")
    with pytest.raises(FixtureFormatError):
        parse_expectations(f)
        parse_observations(f)


def test_tests_never_touch_the_users_keras_home():
    import tempfile

    home = os.environ["KERAS_HOME"]  # set by conftest.py before anything imports Keras
    assert os.path.realpath(home).startswith(os.path.realpath(tempfile.gettempdir()))
    for flavour in FLAVOURS:
        assert fixture_env(flavour)["KERAS_HOME"] == home  # the TensorFlow processes inherit it


@pytest.mark.tensorflow
def test_the_shared_process_keeps_failures_per_fixture(tmp_path):
    """A fixture that raises, prints no OBSERVED line or kills the process
    fails alone, with a readable message; the next one still runs."""
    good = tmp_path / "good.py"
    good.write_text("import observe\nobserve.report(state=ok)\n".replace("ok)", "'ok')"))
    raises = tmp_path / "raises.py"
    raises.write_text("raise RuntimeError('boom in the fixture')\n")
    silent = tmp_path / "silent.py"
    silent.write_text("print('no observation')\n")
    dies = tmp_path / "dies.py"
    dies.write_text("import os\nos._exit(3)\n")
    server = FixtureServer("k3")
    try:
        assert server.run(good) == {"state": "ok"}
        with pytest.raises(AssertionError, match=r"raises\.py \[k3\] raised:[\s\S]*RuntimeError: boom in the fixture"):
            server.run(raises)
        with pytest.raises(AssertionError, match=r"silent\.py \[k3\] printed 0 OBSERVED lines"):
            server.run(silent)
        with pytest.raises(AssertionError, match=r"dies\.py \[k3\] killed the fixture server \(exit code 3\)"):
            server.run(dies)
        assert server.run(good) == {"state": "ok"}  # a fresh process took over
    finally:
        server.close()


def test_k3dev_runs_the_nightly_beside_the_test_tensorflow(monkeypatch, tmp_path):
    """k3dev puts the keras-nightly folder first on PYTHONPATH and fails
    (never skips) when that folder holds no keras-nightly 3.16."""
    from fixture_harness import _require_tensorflow, k3dev_path

    env = fixture_env("k3dev")
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(k3dev_path())
    assert env["KERAS_BACKEND"] == "tensorflow" and "TF_USE_LEGACY_KERAS" not in env
    assert fixture_env("k3devjax")["KERAS_BACKEND"] == "jax"
    assert str(k3dev_path()) not in fixture_env("k3")["PYTHONPATH"]
    monkeypatch.setenv("KM_K3DEV_PATH", str(tmp_path))
    with pytest.raises(AssertionError, match=r"no keras-nightly 3\.16 in .*pip install --no-deps --target"):
        _require_tensorflow("k3dev")


def test_every_version_difference_is_measured_under_k3dev():
    """A fixture whose expectations differ between --keras-version 3 and 3.16
    runs under keras-nightly too (k3dev, or k3devjax for a JAX fixture)."""
    missing = []
    for path in fixture_files():
        expected = parse_expectations(path)
        if expected["3"] != expected["3.16"]:
            declared = parse_observations(path)
            if not {"k3dev", "k3devjax"} & set(declared):
                missing.append(path.name)
    assert not missing, f"3 and 3.16 differ but no k3dev observation: {missing}"
