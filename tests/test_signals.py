"""Ctrl-C: the run stops at once, exits 130 with one line and no traceback,
leaves no worker process and no temporary file.

The linter runs as a child in its own process group, and SIGINT goes to the
whole group, as a terminal sends it."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import FLAGGED

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")


def start(args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    # As a shell starts a foreground job: SIGINT at its default, whatever the
    # test process inherited (a pytest-xdist worker may run with it ignored,
    # and an ignored SIGINT stays ignored across exec).
    return subprocess.Popen([sys.executable, "-m", "kerasmode_lint", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def interrupt(proc, after: float):
    """Ctrl-C ``after`` seconds in: (return code, seconds to exit, stderr)."""
    time.sleep(after)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)
    return proc.returncode, time.monotonic() - sent, err.decode()


def group_is_gone(pgid: int) -> bool:
    for _ in range(50):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def assert_clean_exit(code, seconds, err, tree, by_signal=False):
    """Exit 130 with one line; or, inside libcst's native parse (which holds
    the interpreter lock), death by SIGINT itself, which the shell also
    reports as 130."""
    assert "Traceback" not in err and "Fatal Python error" not in err, err
    if not (by_signal and code == -signal.SIGINT):
        assert code == 130, err
        assert err.strip().splitlines()[-1] == "kerasmode-lint: interrupted"
    assert seconds < 3, f"took {seconds:.1f} s to stop"  # "at once", with room for a busy machine
    leftovers = [p for p in tree.rglob("*") if p.name.startswith(".tmp-") or p.name.endswith(".tmp")]
    assert not leftovers


def test_a_parallel_run_stops_at_once(tmp_path):
    # About 4.5 MB in all: over ten seconds of work on an idle 2-core machine,
    # so a loaded machine cannot finish it before the signal comes.
    for number in range(800):
        (tmp_path / f"m{number:03d}.py").write_text(FLAGGED * 30)
    proc = start(["-j", "2", str(tmp_path)], tmp_path)
    code, seconds, err = interrupt(proc, after=2.5)
    assert_clean_exit(code, seconds, err, tmp_path)
    assert group_is_gone(proc.pid), "a worker process outlived the run"


def test_a_serial_run_in_the_parse_thread_stops_without_aborting(tmp_path):
    """-j1 parses on a large-stack thread; shutting down while it runs used to
    abort the interpreter (SIGABRT, "Fatal Python error")."""
    (tmp_path / "big.py").write_text(FLAGGED * 6000)  # one file: seconds inside libcst's parse
    for _ in range(3):
        proc = start(["-j", "1", "--no-cache", "big.py"], tmp_path)
        code, seconds, err = interrupt(proc, after=2.0)
        assert code != -signal.SIGABRT, err
        assert_clean_exit(code, seconds, err, tmp_path, by_signal=True)


def test_a_serial_run_stops_at_once_after_the_parse_too(tmp_path):
    """Past the parse, the run used to finish tearing the interpreter down
    (freeing the whole syntax tree) before it exited: seconds on a big file."""
    (tmp_path / "big.py").write_text(FLAGGED * 6000)
    proc = start(["-j", "1", "--no-cache", "big.py"], tmp_path)
    code, seconds, err = interrupt(proc, after=7.0)
    assert_clean_exit(code, seconds, err, tmp_path, by_signal=True)
    assert seconds < 1.5, f"took {seconds:.1f} s to stop"
