import os
import random
import threading

import pytest

from kerasmode_lint.engine import discovery
from kerasmode_lint.engine.discovery import DEFAULT_EXCLUDES, discover, validate_globs


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """Work inside tmp_path; tree(*paths) creates files (and their folders)."""
    monkeypatch.chdir(tmp_path)

    def make(*paths, text=""):
        for p in paths:
            f = tmp_path / p
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
        return tmp_path

    return make


def files(*paths, **kw):
    return discover(list(paths) or ["."], **kw).files


def p(*parts):
    return os.path.join(*parts)


def git_repo(tmp_path, gitignore=None, where=""):
    (tmp_path / ".git" / "info").mkdir(parents=True, exist_ok=True)
    if gitignore is not None:
        (tmp_path / where / ".gitignore").write_text(gitignore)


# --- walking -----------------------------------------------------------------

def test_recursion_and_suffixes(tree):
    tree("a.py", "pkg/b.py", "pkg/sub/c.py", "pkg/readme.txt", "pkg/d.pyi", "pkg/e.pyc")
    assert files() == ["a.py", p("pkg", "b.py"), p("pkg", "sub", "c.py")]
    assert files(suffixes=(".py", ".pyi")) == [
        "a.py", p("pkg", "b.py"), p("pkg", "d.pyi"), p("pkg", "sub", "c.py")]


def test_default_excludes(tree):
    tree("ok.py", "venv/x.py", ".git/x.py", "__pycache__/x.py", "build/x.py",
         "foo.egg-info/x.py", "src/.venv/x.py", "src/node_modules/x.py", "src/dist/x.py")
    assert files() == ["ok.py"]
    assert "*.egg-info" in DEFAULT_EXCLUDES and ".kerasmode_lint_cache" in DEFAULT_EXCLUDES


def test_exclude_replaces_defaults_and_extend_exclude_adds(tree):
    tree("ok.py", "venv/v.py", "legacy/l.py")
    assert files(exclude=["legacy"]) == ["ok.py", p("venv", "v.py")]
    assert files(extend_exclude=["legacy"]) == ["ok.py"]
    assert files(exclude=[]) == [p("legacy", "l.py"), "ok.py", p("venv", "v.py")]


def test_exclude_glob_forms(tree, tmp_path):
    tree("a.py", "proto/m_pb2.py", "tests/fixtures/f.py", "tests/t.py", "abs/x.py", "keep/abs/y.py")
    assert files(exclude=["*_pb2.py"]) == [
        "a.py", p("abs", "x.py"), p("keep", "abs", "y.py"), p("tests", "fixtures", "f.py"), p("tests", "t.py")]
    assert p("tests", "fixtures", "f.py") not in files(exclude=["tests/fixtures/*"])
    assert p("tests", "t.py") in files(exclude=["tests/fixtures/*"])
    # absolute pattern: only that folder, not another folder named abs
    got = files(exclude=[str(tmp_path / "abs") + "/*"])
    assert p("abs", "x.py") not in got and p("keep", "abs", "y.py") in got
    # "folder/" is read as the folder
    assert p("tests", "t.py") not in files(exclude=["tests/"])


def test_relative_patterns_use_root(tree, tmp_path, monkeypatch):
    tree("proj/tests/fixtures/f.py", "proj/tests/t.py")
    assert files("proj", exclude=["tests/fixtures"]) == [
        p("proj", "tests", "fixtures", "f.py"), p("proj", "tests", "t.py")]
    assert files("proj", exclude=["tests/fixtures"], root=str(tmp_path / "proj")) == [
        p("proj", "tests", "t.py")]


def test_explicit_excluded_file_linted_unless_force_exclude(tree):
    tree("build/gen.py", "gen_pb2.py")
    assert files(p("build", "gen.py"), "gen_pb2.py", extend_exclude=["*_pb2.py"]) == [
        p("build", "gen.py"), "gen_pb2.py"]
    # the excluded folder above the file counts too
    assert files(p("build", "gen.py"), "gen_pb2.py", extend_exclude=["*_pb2.py"], force_exclude=True) == []
    assert files("build", force_exclude=True) == []
    assert files("build") == [p("build", "gen.py")]


def test_explicit_non_py_file_linted(tree):
    tree("script", "notes.txt")
    assert files("script") == ["script"]
    assert files() == []


def test_missing_path_reported(tree):
    tree("a.py")
    d = discover(["a.py", "nope.py", "nodir"])
    assert d.files == ["a.py"] and d.missing == ["nope.py", "nodir"]


def test_display_paths(tree, tmp_path, monkeypatch):
    tree("in/a.py", "out/b.py")
    assert files(str(tmp_path / "in"), "./in/a.py") == [p("in", "a.py")]
    monkeypatch.chdir(tmp_path / "in")
    assert files(".", "../out") == ["a.py", str(tmp_path / "out" / "b.py")]


# --- gitignore ---------------------------------------------------------------

def test_gitignore_simple_name(tree, tmp_path):
    tree("a.py", "secret.py", "pkg/secret.py", "pkg/b.py")
    git_repo(tmp_path, "# comment\n\nsecret.py\n")
    assert files() == ["a.py", p("pkg", "b.py")]


def test_gitignore_anchored(tree, tmp_path):
    tree("top.py", "pkg/top.py", "pkg/sub/x.py", "other/pkg/sub/x.py")
    git_repo(tmp_path, "/top.py\npkg/sub/x.py\n")
    assert files() == [p("other", "pkg", "sub", "x.py"), p("pkg", "top.py")]


def test_gitignore_dir_only(tree, tmp_path):
    tree("weird.py/inner.py", "real.py")
    git_repo(tmp_path, "*.py/\n")
    assert files() == ["real.py"]


def test_gitignore_negation_last_match_wins(tree, tmp_path):
    tree("a.py", "keep.py", "pkg/keep.py")
    git_repo(tmp_path, "*.py\n!keep.py\n")
    assert files() == ["keep.py", p("pkg", "keep.py")]
    git_repo(tmp_path, "!keep.py\n*.py\n")
    assert files() == []


def test_gitignore_double_star(tree, tmp_path):
    tree("gen/a.py", "x/gen/b.py", "x/y/gen/c.py", "docs/d.py", "docs/e/f.py",
         "a/z.py", "a/b/c/z.py", "a/b/c/w.py", "ok.py")
    git_repo(tmp_path, "**/gen/*.py\ndocs/**\na/**/z.py\n")
    assert files() == [p("a", "b", "c", "w.py"), "ok.py"]


def test_gitignore_glob_chars_escapes_and_spaces(tree, tmp_path):
    tree("a.py", "b.py", "c.py", "d1.py", "#hash.py", "!bang.py", "sp.py", "ok_file.py", "91.py")
    git_repo(tmp_path, "[ab].py\nd?.py\n\\#hash.py\n\\!bang.py\nsp.py   \n[!a-z]1.py\n")
    assert files() == ["c.py", "ok_file.py"]


def test_nested_gitignore_overrides(tree, tmp_path):
    tree("a.py", "sub/b.py", "sub/c.py", "sub/deep/d.py")
    git_repo(tmp_path, "*.py\n")
    (tmp_path / "sub" / ".gitignore").write_text("!*.py\nc.py\n")
    assert files() == [p("sub", "b.py"), p("sub", "deep", "d.py")]
    # the rules of the folders above a command-line folder apply too
    assert files("sub/deep") == [p("sub", "deep", "d.py")]
    assert files("sub") == [p("sub", "b.py"), p("sub", "deep", "d.py")]


def test_gitignored_dir_not_descended(tree, tmp_path, monkeypatch):
    tree("vendor/keep.py", "vendor/inner/x.py", "a.py")
    git_repo(tmp_path, "vendor/\n!vendor/keep.py\n")
    listed = []
    real = os.scandir

    def spy(path="."):
        listed.append(os.path.basename(str(path)))
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", spy)
    assert files() == ["a.py"]
    assert "vendor" not in listed and "inner" not in listed


def test_gitignore_not_applied_outside_repo(tree, tmp_path):
    tree("a.py", "secret.py")
    (tmp_path / ".gitignore").write_text("secret.py\n")
    assert files() == ["a.py", "secret.py"]
    (tmp_path / ".git").mkdir()
    assert files() == ["a.py"]
    assert files(respect_gitignore=False) == ["a.py", "secret.py"]


def test_git_info_exclude(tree, tmp_path):
    tree("a.py", "local.py", "keep_local.py")
    git_repo(tmp_path)
    (tmp_path / ".git" / "info" / "exclude").write_text("*local.py\n")
    assert files() == ["a.py"]
    # .gitignore takes precedence over info/exclude
    (tmp_path / ".gitignore").write_text("!keep_local.py\n")
    assert files() == ["a.py", "keep_local.py"]


def test_nested_repository_uses_its_own_rules(tree, tmp_path):
    tree("a.py", "sub/a.py", "sub/b.py")
    git_repo(tmp_path, "a.py\n")
    (tmp_path / "sub" / ".git").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("b.py\n")
    assert files() == [p("sub", "a.py")]


def test_force_exclude_applies_gitignore(tree, tmp_path):
    tree("gen/x.py", "secret.py", "a.py")
    git_repo(tmp_path, "secret.py\ngen/\n")
    named = ["secret.py", p("gen", "x.py"), "a.py"]
    assert files(*named) == named
    assert files(*named, force_exclude=True) == ["a.py"]
    assert files(*named, force_exclude=True, respect_gitignore=False) == named


# --- robustness --------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlinks_loop_broken_and_dir_links(tree, tmp_path):
    tree("a/x.py", "real/r.py")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    os.symlink(tmp_path / "nowhere.py", tmp_path / "a" / "broken.py")
    os.symlink(tmp_path / "real", tmp_path / "a" / "linkdir")
    os.symlink(tmp_path / "real" / "r.py", tmp_path / "a" / "linkfile.py")
    out = {}
    t = threading.Thread(target=lambda: out.update(d=discover(["a", p("a", "loop")])), daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "discover hung on a symlink loop"
    # folder links are not followed; file links are linted; the loop's folder is walked once
    assert out["d"].files == [p("a", "linkfile.py"), p("a", "x.py")]
    assert out["d"].missing == []


def test_unreadable_folder_skipped(tree, tmp_path, monkeypatch):
    tree("a.py", "locked/b.py", "z/c.py")
    real = os.scandir

    def scandir(path="."):
        if os.path.basename(str(path)) == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    assert files() == ["a.py", p("z", "c.py")]
    assert files("locked") == []


def test_duplicates_removed(tree):
    tree("pkg/a.py", "pkg/sub/b.py")
    a = p("pkg", "a.py")
    assert files(a, a, "./" + a) == [a]
    assert files(a, "pkg") == [a, p("pkg", "sub", "b.py")]
    assert files("pkg", "pkg/sub", "pkg") == [a, p("pkg", "sub", "b.py")]
    assert files("pkg/sub", "pkg") == [p("pkg", "sub", "b.py"), a]


def test_each_folder_listed_once(tree, monkeypatch):
    tree("pkg/a.py", "pkg/sub/b.py")
    listed = []
    real = os.scandir

    def spy(path="."):
        listed.append(str(path))
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", spy)
    files("pkg/sub", "pkg", "pkg/sub")
    assert len(listed) == len(set(listed)) == 2


def test_validate_globs():
    validate_globs(["*.py", "tests/fixtures/*", "[[]x", "[!a]b", "[]]"])
    with pytest.raises(ValueError, match=r"bad glob '\[': "):
        validate_globs(["ok", "["])
    with pytest.raises(ValueError, match="bad glob 'a\\[b'"):
        validate_globs("a[b")
    with pytest.raises(ValueError, match="bad glob"):
        discover(["."], extend_exclude=["x["])


def test_deterministic_order(tree, tmp_path):
    names = [f"m{i}/f{j}.py" for i in range(5) for j in range(5)] + ["b.py", "a.py", "c/z.py"]
    random.Random(0).shuffle(names)
    tree(*names)
    first = files()
    assert first == files()
    assert first[:3] == ["a.py", "b.py", p("c", "z.py")]
    assert first == sorted(first, key=lambda s: s.split(os.sep))
    assert len(first) == len(names)
