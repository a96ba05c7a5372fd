"""Runs many fixtures in one TensorFlow process (started by fixture_harness).

Importing TensorFlow costs seconds; a fixture's own work is usually less. The
harness starts this script once per flavour (and pytest-xdist worker) with the
flavour's environment, then sends fixture paths one per line on stdin. Each
fixture runs as ``__main__`` in a fresh namespace and a fresh temporary
working directory, with its stdout captured; ``keras.backend.clear_session()``
runs between fixtures. The answer is one JSON line per fixture on the
protocol channel (the original stdout; anything else that writes to fd 1,
such as native code, is sent to stderr instead):
``{"stdout": ..., "error": traceback or null}``.
"""
import contextlib
import gc
import io
import json
import os
import runpy
import sys
import tempfile
import traceback


def _clear_session():
    import tensorflow as tf

    tf.keras.backend.clear_session()


def main():
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # stray writes to fd 1 go to stderr, never into the protocol
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
    home = os.getcwd()
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        captured = io.StringIO()
        error = None
        with tempfile.TemporaryDirectory(prefix="km_fixture_") as cwd:
            os.chdir(cwd)
            sys.argv = [path]
            print(f"--- {path}", file=sys.stderr, flush=True)
            try:
                with contextlib.redirect_stdout(captured):
                    runpy.run_path(path, run_name="__main__")
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    error = f"SystemExit({exc.code!r})"
            except BaseException:  # noqa: B902 - one fixture's failure is its own
                error = traceback.format_exc()
            finally:
                os.chdir(home)
                try:
                    _clear_session()
                except Exception:  # the next fixture will fail loudly if the session is broken
                    pass
                gc.collect()
        protocol.write(json.dumps({"stdout": captured.getvalue(), "error": error}) + "\n")


if __name__ == "__main__":
    main()
