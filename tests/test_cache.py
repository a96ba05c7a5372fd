"""The lint cache: hits, what invalidates it, its folder, sharing and read-only folders."""
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from kerasmode_lint.engine import cache as cache_module
from kerasmode_lint.engine import lint as engine, runner
from kerasmode_lint.engine.cache import CACHE_DIR_NAME, LintCache, content_hash
from kerasmode_lint.frontends.cli import main
from kerasmode_lint.engine.lint import LintOptions

FLAGGED = textwrap.dedent("""\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
""")
CLEAN = FLAGGED.replace("model(x)", "model(x, training=True)")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (tmp_path / "train.py").write_text(FLAGGED)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def run(capsys, *args):
    code = main(["-q", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def count_lints(monkeypatch):
    """How many files were actually linted (cache misses)."""
    from kerasmode_lint.frontends import cli

    linted = []
    real = cli.lint_task

    def counting(path, data, options, job):
        linted.append(path)
        return real(path, data, options, job)

    monkeypatch.setattr(cli, "lint_task", counting)
    return linted


def test_second_run_is_served_from_the_cache(project, capsys, count_lints):
    first = run(capsys, ".")
    assert first[0] == 1 and "train.py:3:12: KM101" in first[1]
    assert sorted(count_lints) == ["clean.py", "train.py"]
    count_lints.clear()
    assert run(capsys, ".") == first
    assert count_lints == []


def test_cache_folder_is_tagged_and_ignored_by_git(project, capsys):
    run(capsys, ".")
    folder = project / CACHE_DIR_NAME
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    [build] = [p for p in folder.iterdir() if p.is_dir()]
    entries = [e for e in build.iterdir() if e.name != ".pruned"]  # the stamp of the last pruning
    assert len(entries) == 2 and all(e.suffix == ".json" for e in entries)
    assert not [p for p in build.iterdir() if p.name.startswith(".tmp-")]


def test_changed_content_is_linted_again(project, capsys, count_lints):
    run(capsys, ".")
    (project / "clean.py").write_text(FLAGGED)
    count_lints.clear()
    code, out, _ = run(capsys, ".")
    assert count_lints == ["clean.py"]
    assert "clean.py:3:12: KM101" in out


def test_changed_settings_are_linted_again(project, capsys, count_lints):
    run(capsys, ".")
    count_lints.clear()
    assert run(capsys, "--ignore", "KM101", ".")[0] == 0
    assert sorted(count_lints) == ["clean.py", "train.py"]
    count_lints.clear()
    run(capsys, "--disable-noqa", ".")
    assert sorted(count_lints) == ["clean.py", "train.py"]


def test_what_the_project_says_about_keras_is_part_of_the_key(project, monkeypatch):
    """A new pin changes the Keras version the project's files get, and with it
    the key; signals in the file itself are covered by the content hash."""
    from kerasmode_lint.engine.versions import clear_caches

    task = ("train.py", LintOptions())
    monkeypatch.setattr(runner, "_PROJECT_VERSIONS", {})
    before = runner.settings_key(task)
    (project / "requirements.txt").write_text("tf-keras==2.15\n")
    clear_caches()
    monkeypatch.setattr(runner, "_PROJECT_VERSIONS", {})
    try:
        after = runner.settings_key(task)
    finally:
        clear_caches()
    assert before != after and after.endswith("keras=auto/2.15")
    assert runner.settings_key(("train.py", LintOptions(keras_version="3.16"))).endswith("keras=3.16")


def test_a_new_pin_gives_new_results(project, capsys):
    """End to end: a rule that applies only to Keras 3 goes silent when the
    project pins TensorFlow 2.15, although no linted file changed."""
    from kerasmode_lint.rules import ALL_RULES
    from kerasmode_lint.engine.versions import KERAS3, clear_caches

    rule = ALL_RULES[0]
    original = rule.versions
    rule.versions = KERAS3
    try:
        (project / "requirements.txt").write_text("keras==3.12\n")
        assert run(capsys, "train.py")[0] == 1
        (project / "requirements.txt").write_text("tensorflow==2.15\n")
        clear_caches()
        runner._PROJECT_VERSIONS.clear()
        assert run(capsys, "train.py") == (0, "", "")
    finally:
        rule.versions = original
        clear_caches()
        runner._PROJECT_VERSIONS.clear()


def test_settings_key_is_stable_across_processes(project):
    """Sets are sorted, so hash randomisation cannot change the key."""
    code = (
        "from kerasmode_lint.engine import runner; from kerasmode_lint.engine.lint import LintOptions; "
        "print(runner.settings_key(('a.py', LintOptions(enabled=frozenset({'KM101', 'KM102', 'KM2'})))))"
    )
    keys = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env=dict(os.environ, PYTHONHASHSEED=str(seed))).stdout
        for seed in (1, 2, 3)
    }
    assert len(keys) == 1


def test_linter_code_is_part_of_the_key(tmp_path):
    """Editing any module of the linter (a rule, say) gives a new cache folder."""
    def key_for(source):
        package = tmp_path / "package"
        (package / "rules").mkdir(parents=True, exist_ok=True)
        (package / "rules" / "km999.py").write_text(source)
        return cache_module.tool_key(str(package))

    assert key_for("A = 1\n") != key_for("A = 2\n")
    assert key_for("A = 1\n") == key_for("A = 1\n")


def test_no_cache_neither_reads_nor_writes(project, capsys, count_lints):
    run(capsys, "--no-cache", ".")
    assert not (project / CACHE_DIR_NAME).exists()
    run(capsys, ".")
    count_lints.clear()
    run(capsys, "--no-cache", ".")
    assert sorted(count_lints) == ["clean.py", "train.py"]


def test_cache_dir_flag_and_config_key(project, capsys):
    run(capsys, "--cache-dir", "elsewhere", ".")
    assert (project / "elsewhere" / "CACHEDIR.TAG").is_file()
    assert not (project / CACHE_DIR_NAME).exists()
    (project / "pyproject.toml").write_text('[tool.kerasmode-lint]\ncache-dir = "from-config"\n')
    (project / "sub").mkdir()
    (project / "sub" / "m.py").write_text(FLAGGED)
    os.chdir(project / "sub")
    run(capsys, ".")
    assert (project / "from-config" / "CACHEDIR.TAG").is_file()  # relative to the config's folder
    assert "cache-dir: " + str(project / "from-config") in main_output(capsys, "--show-settings", ".")


def main_output(capsys, *args):
    main(list(args))
    return capsys.readouterr().out


def test_bad_cache_dir_in_config_is_an_error(project, capsys):
    (project / "pyproject.toml").write_text("[tool.kerasmode-lint]\ncache-dir = 3\n")
    code, out, err = run(capsys, ".")
    assert code == 2 and "cache-dir must be a folder name" in err and err.count("\n") == 1


def test_unwritable_cache_lints_anyway_and_warns_once(project, capsys):
    (project / "blocked").write_text("a file where the cache folder should be")
    code, out, err = run(capsys, "--cache-dir", "blocked", ".")
    assert code == 1 and "train.py:3:12: KM101" in out
    [warning] = err.splitlines()
    assert warning.startswith("kerasmode-lint: warning: cannot write the cache in ")
    assert warning.endswith("linting without caching")


def test_read_only_cache_is_still_read(project, capsys, count_lints, monkeypatch):
    run(capsys, ".")
    count_lints.clear()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache_module, "write_atomically", refuse)
    (project / "new.py").write_text(CLEAN)
    code, out, err = run(capsys, ".")
    assert count_lints == ["new.py"]  # the two old entries were read
    assert code == 1 and err.count("cannot write the cache") == 1 and "Permission denied" in err


def test_damaged_entry_is_a_miss_and_is_rewritten(project, capsys, count_lints):
    run(capsys, ".")
    [build] = [p for p in (project / CACHE_DIR_NAME).iterdir() if p.is_dir()]
    for entry in build.glob("*.json"):
        entry.write_text("{not json")
    count_lints.clear()
    first = run(capsys, ".")
    assert sorted(count_lints) == ["clean.py", "train.py"] and "KM101" in first[1]
    for entry in build.glob("*.json"):
        assert "content" in json.loads(entry.read_text())


def test_internal_errors_are_not_cached(project, capsys, count_lints, monkeypatch):
    from kerasmode_lint.rules import ALL_RULES

    def broken(self, node):
        raise ZeroDivisionError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(ALL_RULES[0], "visit_With", broken)
        assert run(capsys, "train.py")[0] == 2
    count_lints.clear()
    assert run(capsys, "train.py")[0] == 1
    assert count_lints == ["train.py"]


def test_entries_pair_results_with_the_content_linted(tmp_path):
    cache = LintCache(str(tmp_path / "c"))
    diags = engine.lint_bytes(FLAGGED.encode(), "a.py", LintOptions(keras_version="3")).diagnostics
    cache.put("a.py", "s", content_hash(FLAGGED.encode()), diags)
    assert cache.get("a.py", "s", content_hash(FLAGGED.encode())) == diags
    assert cache.get("a.py", "s", content_hash(CLEAN.encode())) is None
    assert cache.get("a.py", "other settings", content_hash(FLAGGED.encode())) is None
    assert cache.get("b.py", "s", content_hash(FLAGGED.encode())) is None


SHARED_RUN = (
    "import sys; from kerasmode_lint.frontends.cli import main; "
    "sys.exit(main(['-q', '--jobs', '1', '--cache-dir', sys.argv[1], sys.argv[2]]))"
)


def test_two_runs_can_share_a_cache(tmp_path):
    """Run side by side on one cache folder: both right, every entry whole."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for number in range(60):
        (tree / f"m{number}.py").write_text(FLAGGED if number % 3 == 0 else CLEAN)
    shared = str(tmp_path / "shared")
    argv = [sys.executable, "-c", SHARED_RUN, shared, str(tree)]
    for _ in range(2):  # cold side by side, then warm side by side
        procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outputs = [p.communicate() for p in procs]
        for proc, (out, err) in zip(procs, outputs):
            assert proc.returncode == 1 and err == ""
            assert len(out.splitlines()) == 20
    [build] = [p for p in os.scandir(shared) if p.is_dir()]
    names = [name for name in os.listdir(build.path) if name != ".pruned"]
    assert len(names) == 60 and not [n for n in names if n.startswith(".tmp-")]
    for name in names:
        with open(os.path.join(build.path, name)) as handle:
            json.load(handle)


def build_folder(project):
    [build] = [p for p in (project / CACHE_DIR_NAME).iterdir() if p.is_dir()]
    return build


def plant_clean_entries(project):
    """What another user could plant: entries saying every file is clean."""
    for entry in build_folder(project).glob("*.json"):
        fields = json.loads(entry.read_text())
        entry.write_text(json.dumps({"content": fields["content"], "diagnostics": []}))


def test_an_existing_folder_with_other_files_is_not_used_nor_marked(project, capsys, count_lints):
    (project / ".gitignore").write_text("build/\n")
    code, out, err = run(capsys, "--cache-dir", ".", ".")
    assert code == 1 and "train.py:3:12: KM101" in out
    [warning] = err.splitlines()
    assert warning.startswith(f"kerasmode-lint: warning: not using the cache in {project}: it holds files")
    assert (project / ".gitignore").read_text() == "build/\n"
    assert not (project / "CACHEDIR.TAG").exists()
    assert sorted(p.name for p in project.iterdir()) == [".gitignore", "clean.py", "pyproject.toml", "train.py"]
    count_lints.clear()
    run(capsys, "--cache-dir", ".", ".")
    assert sorted(count_lints) == ["clean.py", "train.py"]


def test_an_existing_empty_folder_is_used_without_markers(project, capsys, count_lints):
    (project / "mine").mkdir(mode=0o700)
    run(capsys, "--cache-dir", "mine", ".")
    assert [p.is_dir() for p in (project / "mine").iterdir()] == [True]  # the build folder only
    count_lints.clear()
    run(capsys, "--cache-dir", "mine", ".")
    assert count_lints == []


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
@pytest.mark.parametrize("where", ["root", "build", "entry"])
def test_a_cache_others_can_write_is_not_trusted(project, capsys, where):
    run(capsys, ".")
    plant_clean_entries(project)
    target = {"root": project / CACHE_DIR_NAME, "build": build_folder(project)}.get(where)
    for path in [target] if target else list(build_folder(project).glob("*.json")):
        path.chmod(path.stat().st_mode | 0o002)
    code, out, err = run(capsys, ".")
    assert code == 1 and "train.py:3:12: KM101" in out  # the planted "clean" entry was not believed
    if where == "entry":
        assert err == ""  # a bad entry is a miss
    else:
        [warning] = err.splitlines()
        assert "others can write to it; linting without caching" in warning


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners")
def test_a_cache_of_another_user_is_not_trusted(project, capsys, monkeypatch):
    run(capsys, ".")
    plant_clean_entries(project)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(project).st_uid + 1)
    code, out, err = run(capsys, ".")
    assert code == 1 and "train.py:3:12: KM101" in out
    assert err.count("it belongs to another user") == 1


DAMAGED_DIAGNOSTICS = [
    "x", [1], [[1, 2]], None, {"a": 1},
    [["a", 1, "KM101", "m", 0, 0, "n", 0, None]],  # line not a number
    [[True, 1, "KM101", "m", 0, 0, "n", 0, None]],  # a bool is not a line
    [[0, 1, "KM101", "m", 0, 0, "n", 0, None]],  # lines start at 1
    [[1, 1, "KM999", "m", 0, 0, "n", 0, None]],  # no such code
    [[1, 1, "KM101", None, 0, 0, "n", 0, None]],  # message
    [[1, 1, "KM101", "m", -1, 0, "n", 0, None]],
    [[1, 1, "KM101", "m", 0, 0, "n", 0, ["safe", "m", [[1, 1, 1, "x", "c", 0]]]]],
    [[1, 1, "KM101", "m", 0, 0, "n", 0, ["maybe", "m", []]]],
    [[1, 1, "KM101", "m", 0, 0, "n", 0, 7]],
    [[1, 1, "KM101", "m", 0, 0, "n", 1.5, None]],
]


@pytest.mark.parametrize("diagnostics", DAMAGED_DIAGNOSTICS)
def test_an_entry_that_breaks_the_schema_is_a_miss(tmp_path, diagnostics):
    cache = LintCache(str(tmp_path / "c"))
    digest = content_hash(b"x")
    cache.put("a.py", "s", digest, [])
    assert cache.get("a.py", "s", digest) == []
    [entry] = os.listdir(cache.folder)
    with open(os.path.join(cache.folder, entry), "w") as handle:
        json.dump({"content": digest, "diagnostics": diagnostics}, handle)
    assert cache.get("a.py", "s", digest) is None


def test_a_deeply_nested_entry_is_a_miss(tmp_path):
    cache = LintCache(str(tmp_path / "c"))
    digest = content_hash(b"x")
    cache.put("a.py", "s", digest, [])
    [entry] = os.listdir(cache.folder)
    with open(os.path.join(cache.folder, entry), "w") as handle:
        handle.write('{"content": "%s", "diagnostics": %s}' % (digest, "[" * 100_000 + "]" * 100_000))
    assert cache.get("a.py", "s", digest) is None


def age(path, days):
    old = time.time() - days * 24 * 3600
    os.utime(path, (old, old))


def test_a_run_prunes_other_builds_and_entries_unused_for_a_month(project, capsys, count_lints):
    run(capsys, ".")
    root = project / CACHE_DIR_NAME
    build = build_folder(project)
    other = root / "0.0.1-0123456789abcdef01234567"
    other.mkdir()
    (other / ("a" * 32 + ".json")).write_text("{}")
    # entries[0]: train.py's (old, unused by the run below), entries[1]: clean.py's.
    train = cache_module.content_hash((project / "train.py").read_bytes())
    entries = sorted(build.glob("*.json"), key=lambda e: json.loads(e.read_text())["content"] != train)
    age(entries[0], cache_module.PRUNE_DAYS + 1)
    age(entries[1], cache_module.PRUNE_DAYS - 1)
    (build / ".pruned").unlink()
    run(capsys, "--no-cache", ".")  # a run without the cache does not touch it
    assert other.exists() and entries[0].exists()
    run(capsys, "clean.py")  # a run serves from, and prunes, the cache
    assert not other.exists()
    assert not entries[0].exists() and entries[1].exists()
    assert (build / ".pruned").exists()


def test_an_entry_in_use_is_not_pruned(project, capsys):
    run(capsys, ".")
    build = build_folder(project)
    for entry in build.glob("*.json"):
        age(entry, cache_module.PRUNE_DAYS - 1)
    run(capsys, ".")  # both hits: their dates are renewed
    (build / ".pruned").unlink()
    for entry in build.glob("*.json"):
        assert entry.stat().st_mtime > time.time() - 3600


def test_the_cache_is_kept_below_its_size_cap(project, capsys, monkeypatch):
    run(capsys, ".")
    build = build_folder(project)
    oldest, older = sorted(build.glob("*.json"))
    age(oldest, 3)
    age(older, 2)
    (build / ".pruned").unlink()
    (project / "new.py").write_text(CLEAN)
    run(capsys, "new.py")  # neither old entry is used
    [newest] = [p for p in build.glob("*.json") if p not in (oldest, older)]
    monkeypatch.setattr(cache_module, "MAX_BYTES", older.stat().st_size + newest.stat().st_size)
    (build / ".pruned").unlink()
    run(capsys, "new.py")
    assert sorted(build.glob("*.json")) == sorted([older, newest])  # the least recently used went


def test_clean_removes_the_cache_and_nothing_else(project, capsys):
    run(capsys, ".")
    assert (project / CACHE_DIR_NAME).is_dir()
    code = main(["clean"])
    assert code == 0 and "removed the cache in" in capsys.readouterr().err
    assert not (project / CACHE_DIR_NAME).exists()
    assert sorted(p.name for p in project.iterdir()) == ["clean.py", "pyproject.toml", "train.py"]
    assert main(["clean"]) == 0 and "no cache in" in capsys.readouterr().err


def test_clean_refuses_a_folder_that_is_not_only_cache(project, capsys):
    code = main(["clean", "--cache-dir", "."])
    assert code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("kerasmode-lint: error: not removing ") and "holds files that are not the cache's" in line
    assert (project / "train.py").exists()
