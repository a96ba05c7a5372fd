"""Tests for kerasmode_lint.engine.versions: parsing, resolution order, pins, ranges."""

from __future__ import annotations

import pytest

from kerasmode_lint.engine import versions
from kerasmode_lint.engine.versions import (
    ALL,
    KERAS2,
    KERAS2_AND_316,
    KERAS2_ONLY,
    KERAS3,
    KERAS3_FROM_316,
    KERAS3_MEASURED,
    KERAS3_TO_315,
    KerasVersion,
    VersionRange,
    VersionSet,
    parse_keras_version,
    resolve_version,
)

K = KerasVersion
DEFAULT = versions.ASSUMED.reason


@pytest.fixture(autouse=True)
def isolated(monkeypatch):
    """No caches between tests, and no project environment or legacy flag
    unless a test says so (the linter's own environment is never read)."""
    for variable in ("TF_USE_LEGACY_KERAS", "VIRTUAL_ENV", "CONDA_PREFIX", "PRE_COMMIT"):
        monkeypatch.delenv(variable, raising=False)
    versions.clear_caches()
    yield
    versions.clear_caches()


@pytest.fixture
def project(tmp_path):
    """A project root (marked by .git) with no dependency files yet."""
    (tmp_path / ".git").mkdir()
    return tmp_path


def auto(path, source=b"import keras\n"):
    return resolve_version("auto", path, source)


# --- KerasVersion and parsing -------------------------------------------------

def test_keras_version_text_order_and_major():
    assert str(K(2, 15)) == "2.15"
    assert str(K(3, 16, 1)) == "3.16.1"
    assert str(K(3, 15, 0)) == "3.15"
    assert K(2, 15) < K(3, 0) < K(3, 15) < K(3, 15, 1) < K(3, 16)
    assert KERAS2.is_keras2 and K(2, 3).is_keras2
    assert not KERAS3_MEASURED.is_keras2
    assert KERAS2 == K(2, 15) and KERAS3_MEASURED == K(3, 15)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2", KERAS2),
        ("3", KERAS3_MEASURED),
        ("3.16", K(3, 16)),
        ("3.15.1", K(3, 15, 1)),
        ("2.13", K(2, 13)),
        ("2.15.0", K(2, 15)),
        ("  3.16\n", K(3, 16)),
        (" 2 ", KERAS2),
    ],
)
def test_parse_valid(text, expected):
    assert parse_keras_version(text) == expected


@pytest.mark.parametrize("text", ["4", "three", "", "3.x", "1.2", "auto", "3.16.1.2", "2.", "v3", "3 .16"])
def test_parse_invalid(text):
    with pytest.raises(ValueError) as info:
        parse_keras_version(text)
    message = str(info.value)
    assert "\n" not in message
    assert message == (
        f"invalid keras-version {text!r}: expected auto, 2, 3 or X.Y[.Z] with X in (2, 3)"
    )


# --- explicit setting -----------------------------------------------------------

def test_explicit_setting_wins_over_everything(project):
    (project / "requirements.txt").write_text("tf-keras\n")
    got = resolve_version("3.16", project / "m.py", b"import tf_keras\n")
    assert got.version == K(3, 16)
    assert got.reason == "set by --keras-version"


def test_explicit_setting_origin_in_reason(project):
    got = resolve_version("2", project / "m.py", b"", setting_origin="[tool.kerasmode-lint] in pyproject.toml")
    assert got == versions.ResolvedVersion(KERAS2, "set by [tool.kerasmode-lint] in pyproject.toml")


def test_explicit_invalid_setting_raises(project):
    with pytest.raises(ValueError, match="invalid keras-version '4'"):
        resolve_version("4", project / "m.py", b"")


def test_auto_is_case_and_space_insensitive(project):
    assert resolve_version(" AUTO ", project / "m.py", b"import tf_keras\n").version == KERAS2


# --- 1. signals in the file -----------------------------------------------------

@pytest.mark.parametrize(
    "source, line, what",
    [
        (b"import tf_keras\n", 1, "imports tf_keras"),
        (b"import os\n\nimport tf_keras as k\n", 3, "imports tf_keras"),
        (b"from tf_keras import layers\n", 1, "imports tf_keras"),
        (b"x = 1\nfrom tf_keras.layers import Dropout\n", 2, "imports tf_keras"),
        (b"import os, tf_keras\n", 1, "imports tf_keras"),
        (b"import tf_keras.layers\n", 1, "imports tf_keras"),
        (b"try:\n    import tf_keras  # legacy\nexcept ImportError:\n    pass\n", 2, "imports tf_keras"),
        (b"import os\r\nimport tf_keras\r\n", 2, "imports tf_keras"),
        (b'import os\nos.environ["TF_USE_LEGACY_KERAS"] = "1"\n', 2, "sets TF_USE_LEGACY_KERAS"),
        (b"os.environ['TF_USE_LEGACY_KERAS']='true'\n", 1, "sets TF_USE_LEGACY_KERAS"),
        (b'os.environ["TF_USE_LEGACY_KERAS"] = "True"\n', 1, "sets TF_USE_LEGACY_KERAS"),
        (b'os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")\n', 1, "sets TF_USE_LEGACY_KERAS"),
        (b'os.environ.update(TF_USE_LEGACY_KERAS="1")\n', 1, "sets TF_USE_LEGACY_KERAS"),
        (b'os.environ.update(A="x", TF_USE_LEGACY_KERAS="true")\n', 1, "sets TF_USE_LEGACY_KERAS"),
        (b'os.environ.update({"TF_USE_LEGACY_KERAS": "1"})\n', 1, "sets TF_USE_LEGACY_KERAS"),
        (b"%env TF_USE_LEGACY_KERAS=1\nimport tensorflow as tf\n", 1, "sets TF_USE_LEGACY_KERAS"),
        (b"import os\n%env TF_USE_LEGACY_KERAS 1\n", 2, "sets TF_USE_LEGACY_KERAS"),
        (b'monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")\n', 1, "sets TF_USE_LEGACY_KERAS"),
    ],
)
def test_file_signal(project, source, line, what):
    got = auto(project / "m.py", source)
    assert got.version == KERAS2
    assert got.reason == f"file {what} (line {line})"


@pytest.mark.parametrize(
    "source",
    [
        b"# import tf_keras\nimport keras\n",
        b"   # from tf_keras import layers\n",
        b'# os.environ["TF_USE_LEGACY_KERAS"] = "1"\n',
        b'x = 1  # os.environ["TF_USE_LEGACY_KERAS"] = "1"\n',
        b'os.environ["TF_USE_LEGACY_KERAS"] = "0"\n',
        b'os.environ["TF_USE_LEGACY_KERAS"] = "false"\n',
        b'legacy = os.environ.get("TF_USE_LEGACY_KERAS", "1")\n',
        b"import tf_keras_extras\n",
        b"import mypkg.tf_keras\n",
        b"from mypkg import tf_keras\n",
        b"%env TF_USE_LEGACY_KERAS=10\n",
        b"",
    ],
)
def test_no_file_signal(project, source):
    assert auto(project / "m.py", source) in (versions.ASSUMED, versions.ASSUMED_KERAS2)


def test_first_file_signal_reported(project):
    source = b'# import tf_keras\nimport os\nos.environ["TF_USE_LEGACY_KERAS"] = "1"\nimport tf_keras\n'
    assert auto(project / "m.py", source).reason == "file sets TF_USE_LEGACY_KERAS (line 3)"


def test_file_signal_accepts_str_source(project):
    assert auto(project / "m.py", "import tf_keras\n").version == KERAS2


# --- 2. pins ----------------------------------------------------------------------

# (requirement as PEP 508 text, expected version or None for "no signal")
PEP508_PINS = [
    ("tf-keras", None),  # without TF_USE_LEGACY_KERAS tf-keras alone says nothing
    ("tf_keras==2.15.*", KERAS2),  # tf-keras X.Y goes with TensorFlow X.Y
    ("TF.Keras==2.16.0", KERAS3_MEASURED),  # TensorFlow 2.16: tf.keras is Keras 3
    ("keras<3", KERAS2),
    ("keras<3.0", KERAS2),
    ("keras<=2.15", KERAS2),
    ("keras==2.13.1", KERAS2),
    ("keras~=2.12", KERAS2),
    ("keras==3.12", K(3, 12)),
    ("keras==3.15.1", K(3, 15, 1)),
    ("keras==3.16.*", K(3, 16)),
    ("keras~=3.10", K(3, 10)),
    ("keras>=3.2", KERAS3_MEASURED),
    ("keras>=3.16", K(3, 16)),
    ("keras>=3.0,<3.10", K(3, 9)),
    ("Keras[jax] >= 3.17", K(3, 17)),
    ("keras", None),
    ("tensorflow<2.16", KERAS2),
    ("tensorflow-cpu<=2.15.1", KERAS2),
    ("tensorflow==2.14.*", KERAS2),
    ("tensorflow-gpu==2.15.0", KERAS2),
    ("tensorflow_macos~=2.12.0", KERAS2),
    ("tensorflow-intel>=2.12,<2.16", KERAS2),
    ("tensorflow>=2.16", KERAS3_MEASURED),
    ("tensorflow[and-cuda]==2.17.0", KERAS3_MEASURED),
    ("tensorflow~=2.12", None),  # allows 2.16+: straddles
    ("tensorflow>=2.12", None),
    ("tensorflow", None),
    ("numpy<2", None),
]


@pytest.mark.parametrize("requirement, expected", PEP508_PINS)
def test_pin_in_requirements_txt(project, requirement, expected):
    path = project / "requirements.txt"
    path.write_text(f"# deps\nnumpy\n{requirement}  # pinned\n")
    got = auto(project / "pkg" / "m.py")
    if expected is None:
        assert got.reason == DEFAULT
    else:
        assert got.version == expected
        assert got.reason == f"pin '{requirement}' in {path}"


@pytest.mark.parametrize("requirement, expected", PEP508_PINS)
def test_pin_in_pep621_pyproject(project, requirement, expected):
    path = project / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\ndependencies = ["numpy", "{requirement}"]\n')
    got = auto(project / "m.py")
    assert (got.version if expected else None) == expected
    if expected:
        assert got.reason == f"pin '{requirement}' in {path}"


@pytest.mark.parametrize("requirement, expected", PEP508_PINS[::3])
def test_pin_in_setup_cfg(project, requirement, expected):
    path = project / "setup.cfg"
    path.write_text(f"[metadata]\nname = x\n\n[options]\ninstall_requires =\n    numpy\n    {requirement}\n")
    got = auto(project / "m.py")
    assert (got.version if expected else None) == expected


@pytest.mark.parametrize("requirement, expected", PEP508_PINS[1::3])
def test_pin_in_requirements_folder(project, requirement, expected):
    (project / "requirements").mkdir()
    path = project / "requirements" / "dev.txt"
    path.write_text(f"-r base.txt\n{requirement}\n")
    got = auto(project / "m.py")
    assert (got.version if expected else None) == expected
    if expected:
        assert got.reason == f"pin '{requirement}' in {path}"


@pytest.mark.parametrize(
    "name, constraint, expected",
    [
        ("tensorflow", '"^2.12"', None),           # caret allows <3.0, so 2.16+
        ("tensorflow", '"~2.12"', KERAS2),         # tilde: <2.13
        ("tensorflow", '">=2.12,<2.16"', KERAS2),
        ("tensorflow", '">=2.12 <2.16"', KERAS2),  # poetry also separates by space
        ("tensorflow", '"2.14.*"', KERAS2),
        ("tensorflow", '"2.15.0"', KERAS2),         # bare version is exact in poetry
        ("tensorflow", '{ version = "^2.16" }', KERAS3_MEASURED),
        ("tensorflow", '"*"', None),
        ("keras", '"^2.12"', KERAS2),
        ("keras", '"^3.12"', K(3, 12)),
        ("keras", '"~3.16"', K(3, 16)),
        ("keras", '{ version = "3.13", extras = ["jax"] }', K(3, 13)),
        ("keras", '[{ version = "3.11", python = "<3.10" }, { version = "3.14", python = ">=3.10" }]', K(3, 11)),
        ("tf-keras", '{ git = "https://example.com/tf-keras.git" }', None),
    ],
)
def test_pin_in_poetry(project, name, constraint, expected):
    path = project / "pyproject.toml"
    path.write_text(f'[tool.poetry.dependencies]\npython = "^3.10"\n{name} = {constraint}\n')
    got = auto(project / "m.py")
    assert (got.version if expected else None) == expected
    if expected:
        assert got.reason.startswith(f"pin '{name}") and got.reason.endswith(f" in {path}")


def test_poetry_reason_text(project):
    path = project / "pyproject.toml"
    path.write_text('[tool.poetry.dependencies]\ntensorflow = "~2.12"\n')
    assert auto(project / "m.py").reason == f"pin 'tensorflow = \"~2.12\"' in {path}"


def test_optional_dependencies_do_not_decide(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["numpy"]\n'
        '[project.optional-dependencies]\ncpu = ["jax"]\nlegacy = ["tf-keras==2.15.*", "tensorflow<2.16"]\n'
        '[dependency-groups]\ndev = ["keras<3"]\n'
    )
    assert auto(project / "m.py").reason == DEFAULT


def test_extra_beside_a_main_pin_leaves_it_to_the_main_pin(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["keras>=3.8"]\n'
        '[project.optional-dependencies]\nlegacy = ["tf-keras"]\n'
    )
    assert auto(project / "m.py").version == KERAS3_MEASURED


def test_poetry_groups_and_optional_do_not_decide(project):
    (project / "pyproject.toml").write_text(
        '[tool.poetry.dependencies]\npython = "^3.10"\ntf-keras = { version = "2.15.*", optional = true }\n'
        '[tool.poetry.group.ml.dependencies]\ntensorflow = "<2.16"\n'
        '[tool.poetry.dev-dependencies]\nkeras = "<3"\n'
    )
    assert auto(project / "m.py").reason == DEFAULT


def test_setup_cfg_extras_do_not_decide_markers_dropped(project):
    (project / "setup.cfg").write_text(
        "[options]\ninstall_requires =\n    numpy\n    keras==3.12; python_version >= '3.9'\n\n"
        "[options.extras_require]\nml =\n    tensorflow<2.16\n"
    )
    got = auto(project / "m.py")
    assert got.version == K(3, 12)
    assert got.reason == f"pin 'keras==3.12' in {project / 'setup.cfg'}"


def test_requirements_txt_skips_options_markers_and_hashes(project):
    (project / "requirements-dev.txt").write_text(
        "--index-url https://example.com/simple\n"
        "-e git+https://example.com/repo.git#egg=tf_keras\n"
        "-c constraints.txt\n"
        "keras==3.11.0 ; python_version >= '3.9' \\\n"
        "    --hash=sha256:abc\n"
    )
    got = auto(project / "m.py")
    assert got.version == K(3, 11)
    assert got.reason == f"pin 'keras==3.11.0' in {project / 'requirements-dev.txt'}"


def test_requirements_marks_root_and_subdir_files_find_it(tmp_path):
    (tmp_path / "requirements-gpu.txt").write_text("tensorflow==2.15.1\n")
    deep = tmp_path / "src" / "pkg" / "sub"
    deep.mkdir(parents=True)
    assert auto(deep / "m.py").version == KERAS2
    assert auto(deep).version == KERAS2  # a directory path is its own start


def test_root_is_nearest_marker(project):
    (project / "requirements.txt").write_text("keras<3\n")
    inner = project / "inner"
    inner.mkdir()
    (inner / "setup.py").write_text("")  # inner project without pins: the outer one decides
    assert auto(inner / "m.py").version == KERAS2
    (inner / "requirements.txt").write_text("keras==3.12\n")  # inner pins: nearest wins
    versions.clear_caches()
    assert auto(inner / "m.py").version == K(3, 12)
    assert auto(project / "m.py").version == KERAS2


def test_path_none_uses_cwd(project, monkeypatch):
    (project / "requirements.txt").write_text("keras==3.12\n")
    monkeypatch.chdir(project)
    assert resolve_version("auto", None, b"").version == K(3, 12)


# --- precedence -----------------------------------------------------------------------

def test_file_signal_beats_pin(project):
    (project / "requirements.txt").write_text("keras==3.16\n")
    got = auto(project / "m.py", b"import tf_keras\n")
    assert got.version == KERAS2 and got.reason.startswith("file imports tf_keras")


def test_keras_pin_beats_tensorflow_pin_and_tf_keras_needs_the_legacy_flag(project, monkeypatch):
    req = project / "requirements.txt"
    req.write_text("tensorflow<2.16\nkeras==3.12\n")
    assert auto(project / "m.py").version == K(3, 12)  # keras pin wins over tensorflow
    versions.clear_caches()
    req.write_text("tensorflow>=2.16\nkeras<3\n")
    assert auto(project / "m.py").version == KERAS2
    versions.clear_caches()
    # TensorFlow >= 2.16 with tf-keras: tf.keras is Keras 3 unless TF_USE_LEGACY_KERAS is set.
    req.write_text("tensorflow==2.17\ntf-keras\n")
    assert auto(project / "m.py").version == KERAS3_MEASURED
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    got = auto(project / "m.py")
    assert got.version == KERAS2
    assert got.reason == f"pin 'tf-keras' in {req} with TF_USE_LEGACY_KERAS=1 in the environment"
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "0")
    assert auto(project / "m.py").version == KERAS3_MEASURED


@pytest.mark.parametrize("line, legacy", [
    ("TF_USE_LEGACY_KERAS=1", True), ("export TF_USE_LEGACY_KERAS='true'", True),
    ('TF_USE_LEGACY_KERAS="1"  # legacy', True), ("TF_USE_LEGACY_KERAS=0", False),
    ("# TF_USE_LEGACY_KERAS=1", False), ("OTHER_TF_USE_LEGACY_KERAS=1", False),
])
def test_dotenv_at_the_project_root(project, line, legacy):
    (project / "requirements.txt").write_text("tensorflow==2.17\ntf-keras==2.17\n")
    (project / ".env").write_text(f"A=b\n{line}\n")
    got = auto(project / "src" / "m.py")
    assert got.version == (KERAS2 if legacy else KERAS3_MEASURED)
    if legacy:
        assert got.reason.endswith(f"in {project / '.env'}")


def test_process_environment_beats_dotenv(project, monkeypatch):
    (project / "requirements.txt").write_text("tensorflow==2.17\ntf-keras==2.17\n")
    (project / ".env").write_text("TF_USE_LEGACY_KERAS=1\n")
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "0")
    assert auto(project / "m.py").version == KERAS3_MEASURED


def test_precedence_across_files(project):
    (project / "pyproject.toml").write_text('[project]\ndependencies = ["tensorflow<2.16"]\n')
    (project / "requirements.txt").write_text("keras>=3.16\n")
    assert auto(project / "m.py").version == K(3, 16)


def test_bare_keras_lets_tensorflow_decide(project):
    (project / "requirements.txt").write_text("keras\ntensorflow==2.15.0\n")
    assert auto(project / "m.py").version == KERAS2


def test_pins_are_cached_per_root(project):
    req = project / "requirements.txt"
    req.write_text("keras==3.12\n")
    assert auto(project / "a.py").version == K(3, 12)
    req.write_text("keras==3.13\n")
    assert auto(project / "b.py").version == K(3, 12)  # cached
    versions.clear_caches()
    assert auto(project / "b.py").version == K(3, 13)


# --- malformed files never raise --------------------------------------------------------

def test_broken_pyproject_is_ignored(project):
    (project / "pyproject.toml").write_text('[project\ndependencies = ["keras<3"\n')
    (project / "requirements.txt").write_text("keras==3.12\n")
    assert auto(project / "m.py").version == K(3, 12)


@pytest.mark.parametrize(
    "name, content",
    [
        ("pyproject.toml", b"[project]\ndependencies = 5\noptional-dependencies = [1]\n[tool]\npoetry = 3\n"),
        ("pyproject.toml", b'[tool.poetry.dependencies]\nkeras = 5\ntensorflow = ["x", 1]\n'),
        ("pyproject.toml", b"\xff\xfe\x00garbage"),
        ("setup.cfg", b"[options\ninstall_requires = keras<3\n"),
        ("setup.cfg", b"no section header\n"),
        ("requirements.txt", b"\xff\xfe keras >=> 3\n==\n[\n"),
    ],
)
def test_malformed_files_do_not_raise(project, name, content):
    (project / name).write_bytes(content)
    assert auto(project / "m.py").version == KERAS3_MEASURED


def test_unreadable_start_directory_does_not_raise(tmp_path):
    assert auto(tmp_path / "missing" / "dir" / "m.py").version in ALL


# --- 3. the project's environment (files only) ----------------------------------------

def fake_environment(prefix, **installed):
    """A virtual environment with dist-info folders (METADATA only), as pip leaves them."""
    site = prefix / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    for name, version in installed.items():
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return prefix


@pytest.mark.parametrize(
    "installed, legacy, expected, reason",
    [
        ({"keras": "3.15.1", "tensorflow": "2.21.0"}, None, K(3, 15, 1), "keras 3.15.1 installed"),
        ({"keras": "3.16.0rc1"}, None, K(3, 16), "keras 3.16.0rc1 installed"),
        ({"keras": "2.15.0", "tensorflow": "2.15.1"}, None, KERAS2, "keras 2.15.0 installed"),
        ({"tensorflow_cpu": "2.14.0"}, None, KERAS2, "tensorflow-cpu 2.14.0 installed"),
        ({"tensorflow": "2.17.0", "tf_keras": "2.17.0"}, "1", KERAS2, "tf-keras 2.17.0 installed"),
        ({"tensorflow": "2.17.0", "tf_keras": "2.17.0"}, None, KERAS3_MEASURED, "tensorflow 2.17.0 installed"),
        ({"numpy": "2.0.0"}, None, KERAS3_MEASURED, DEFAULT),
    ],
)
def test_project_venv_decides(project, monkeypatch, installed, legacy, expected, reason):
    fake_environment(project / ".venv", **installed)
    if legacy:
        monkeypatch.setenv("TF_USE_LEGACY_KERAS", legacy)
    got = auto(project / "pkg" / "m.py")
    assert got.version == expected
    assert got.reason.startswith(reason)


def test_linter_environment_is_never_read(project):
    # The environment running these tests has keras 3.15 and tensorflow 2.21
    # installed; with nothing in the project the version is assumed.
    from importlib.metadata import version

    assert version("keras").startswith("3.")  # installed here: the premise of this test

    got = auto(project / "m.py")
    assert got.assumed and got.reason == DEFAULT


@pytest.mark.parametrize("variable", ["VIRTUAL_ENV", "CONDA_PREFIX"])
def test_activated_environment_beats_project_folder(project, tmp_path_factory, monkeypatch, variable):
    fake_environment(project / "venv", keras="3.12.0")
    other = fake_environment(tmp_path_factory.mktemp("env") / "ml", keras="2.15.0")
    monkeypatch.setenv(variable, str(other))
    assert auto(project / "m.py").version == KERAS2
    monkeypatch.delenv(variable)
    versions.clear_caches()
    assert auto(project / "m.py").version == K(3, 12)


def test_python_option_beats_the_environment_and_takes_an_interpreter(project, tmp_path_factory, monkeypatch):
    env = fake_environment(tmp_path_factory.mktemp("env") / "proj", keras="3.11.2")
    (env / "bin").mkdir()
    (env / "bin" / "python").write_text("")
    monkeypatch.setenv("VIRTUAL_ENV", str(fake_environment(tmp_path_factory.mktemp("other") / "x", keras="2.15.0")))
    for python in (str(env), str(env / "bin" / "python")):
        got = resolve_version("auto", project / "m.py", b"", python=python)
        assert got.version == K(3, 11, 2) and got.reason.endswith(f"in {env}")


def test_pre_commit_hook_environment_is_skipped(project, monkeypatch):
    import sys

    (project / "requirements.txt").write_text("keras==3.10\n")
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)  # what pre-commit sets for its hooks
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert auto(project / "m.py").version == K(3, 10)


def test_environment_without_keras_lets_pins_decide(project):
    fake_environment(project / ".venv", numpy="2.0.0")
    (project / "requirements.txt").write_text("tensorflow==2.15.1\n")
    assert auto(project / "m.py").version == KERAS2


def test_egg_info_version_inside(project):
    fake_environment(project / ".venv")
    info = project / ".venv" / "lib" / "python3.11" / "site-packages" / "keras.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: keras\nVersion: 3.13.0\n")
    assert auto(project / "m.py").version == K(3, 13)


# --- more pin formats ---------------------------------------------------------------------

def test_requirements_nearest_first_then_up_with_includes(project):
    (project / "requirements.txt").write_text("tensorflow==2.15\n")
    service = project / "services" / "new"
    service.mkdir(parents=True)
    (service / "requirements.txt").write_text("-r ../common.txt\nnumpy\n")
    (project / "services" / "common.txt").write_text("keras>=3.4\n")
    got = auto(service / "m.py")
    assert got.version == KERAS3_MEASURED and "common.txt" in got.reason
    assert auto(project / "m.py").version == KERAS2


def test_requirements_include_loops_and_missing_includes(project):
    (project / "requirements.txt").write_text("-r requirements.txt\n-r missing.txt\nkeras==3.9\n")
    assert auto(project / "m.py").version == K(3, 9)


@pytest.mark.parametrize("setup, expected", [
    ('from setuptools import setup\nsetup(name="x", install_requires=["tensorflow>=2.4,<2.16"])\n', KERAS2),
    ('import setuptools\nDEPS = ["numpy", "keras==3.14"]\nsetuptools.setup(install_requires=DEPS)\n', K(3, 14)),
    ('from setuptools import setup\nsetup(extras_require={"tf": ["tensorflow<2.16"]})\n', None),
    ('setup(install_requires=open("r.txt").read().split())\n', None),
    ('this is not python(\n', None),
])
def test_setup_py_read_statically(project, setup, expected):
    (project / "setup.py").write_text(setup)
    got = auto(project / "m.py")
    assert (None if got.assumed else got.version) == expected


@pytest.mark.parametrize("name, text, expected", [
    ("environment.yml", "name: x\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.10\n"
                        "  - tensorflow=2.15\n  - pip\n", KERAS2),
    ("environment.yaml", "dependencies:\n  - conda-forge::keras>=3.3\n", KERAS3_MEASURED),
    ("environment-gpu.yml", "dependencies:\n  - numpy\n  - pip:\n    - keras==3.8.0  # gpu\n"
                            "    - \"tensorflow<2.16\"\n", K(3, 8)),
    ("environment.yml", "dependencies:\n  - keras 2.12.* py_0\n", KERAS2),
    ("environment.yml", "name: keras==3.1\nvariables:\n  - keras==3.2\n", None),
])
def test_conda_environment_files(project, name, text, expected):
    (project / name).write_text(text)
    got = auto(project / "m.py")
    assert (None if got.assumed else got.version) == expected


def test_pipfile_packages_not_dev_packages(project):
    (project / "Pipfile").write_text(
        '[packages]\nnumpy = "*"\ntensorflow = "==2.14.0"\n[dev-packages]\nkeras = ">=3"\n')
    assert auto(project / "m.py").version == KERAS2
    (project / "Pipfile").write_text('[packages]\nkeras = {version = "~=3.7"}\n[dev-packages]\ntf-keras = "*"\n')
    versions.clear_caches()
    assert auto(project / "m.py").version == K(3, 7)


def test_pdm_dev_dependencies_do_not_decide(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["keras>=3.5"]\n'
        '[tool.pdm.dev-dependencies]\nlegacy = ["tf-keras", "keras<3"]\n')
    assert auto(project / "m.py").version == KERAS3_MEASURED


# --- 4. the APIs the code uses, then assumed ---------------------------------------------

@pytest.mark.parametrize("source, expected", [
    (b"model.fit_generator(gen)\n", KERAS2),
    (b"from keras.engine import base_layer\n", KERAS2),
    (b"from tensorflow.python.keras import layers\n", KERAS2),
    (b"K.set_learning_phase(0)\n", KERAS2),
    (b"sess = tf.compat.v1.Session()\n", KERAS2),
    (b"import keras_applications\n", KERAS2),
    (b"x = keras.ops.mean(y)\n", KERAS3_MEASURED),
    (b"from keras import ops, layers\n", KERAS3_MEASURED),
    (b"keras.config.set_dtype_policy('mixed_float16')\n", KERAS3_MEASURED),
    (b"import keras_hub\n", KERAS3_MEASURED),
    (b"# model.fit_generator(gen)\nimport keras\n", None),   # a comment decides nothing
    (b"model.fit_generator(g)\nkeras.ops.mean(y)\n", None),  # both: nothing decides
    (b"import keras\nmodel.fit(x)\n", None),
])
def test_api_signals_when_nothing_pins(project, source, expected):
    got = auto(project / "m.py", source)
    assert (None if got.assumed else got.version) == expected
    if expected is not None:
        assert "which only Keras" in got.reason


def test_api_signals_beat_pins(project):
    # A file on keras.ops cannot target Keras 2, whatever the project pins.
    (project / "requirements.txt").write_text("tensorflow==2.15\ntf_keras==2.15.0\n")
    assert auto(project / "m.py", b"import keras\nx = keras.ops.sum(y)\n").version == KERAS3_MEASURED
    assert auto(project / "m.py", b"import keras\n").version == KERAS2


@pytest.mark.parametrize("source, expected", [
    (b"import keras\n", versions.ASSUMED),
    (b"from keras.layers import Dense\n", versions.ASSUMED),
    (b"import tensorflow as tf\nm = tf.keras.Sequential()\n", versions.ASSUMED_KERAS2),
    (b"from tensorflow import keras\n", versions.ASSUMED_KERAS2),
    (b"import mykeras\n", versions.ASSUMED_KERAS2),
    (b"", versions.ASSUMED_KERAS2),
])
def test_assumed_version_follows_the_keras_import(project, source, expected):
    got = auto(project / "m.py", source)
    assert got == expected and got.assumed



# --- applicability ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "applies, inside, outside, text",
    [
        (ALL, [K(2, 3), KERAS2, K(3, 0), K(3, 16), K(3, 99)], [], "Keras 2, 3"),
        (KERAS2_ONLY, [K(2, 0), KERAS2, K(2, 16)], [K(3, 0), KERAS3_MEASURED], "Keras 2"),
        (KERAS3, [K(3, 0), K(3, 15, 1), K(3, 16)], [KERAS2], "Keras 3"),
        (KERAS3_TO_315, [K(3, 0), K(3, 15), K(3, 15, 7)], [KERAS2, K(3, 16), K(3, 16, 1)], "Keras 3.0–3.15"),
        (KERAS3_FROM_316, [K(3, 16), K(3, 20)], [KERAS2, K(3, 15, 9)], "Keras 3.16+"),
        (KERAS2_AND_316, [KERAS2, K(3, 16), K(3, 17, 2)], [K(3, 0), K(3, 15, 1)], "Keras 2, 3.16+"),
        (VersionSet(KERAS3_FROM_316, KERAS2_ONLY), [KERAS2], [K(3, 15)], "Keras 2, 3.16+"),
        (KERAS2_ONLY | KERAS3_TO_315, [KERAS2, K(3, 15)], [K(3, 16)], "Keras 2, 3.0–3.15"),
        (VersionSet(ALL), [K(3, 16)], [], "Keras 2, 3"),
        (VersionSet(), [], [KERAS2, K(3, 16)], "no Keras version"),
        (VersionRange(K(3, 2), K(3, 9)), [K(3, 2), K(3, 9)], [K(3, 1), K(3, 9, 1)], "Keras 3.2–3.9"),
    ],
)
def test_version_ranges(applies, inside, outside, text):
    for v in inside:
        assert v in applies, v
    for v in outside:
        assert v not in applies, v
    assert str(applies) == text


def test_version_range_rejects_empty_and_foreign_values():
    with pytest.raises(ValueError):
        VersionRange(K(3, 16), K(3, 0))
    assert "3.16" not in ALL
    assert KERAS2_AND_316 == VersionSet(KERAS2_ONLY) | KERAS3_FROM_316
    assert hash(KERAS2_AND_316) == hash(VersionSet(KERAS3_FROM_316, KERAS2_ONLY))
