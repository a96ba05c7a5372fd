"""Running deeply recursive code on a thread with a large stack.

libcst's native parser recurses once per nesting level of the code and has
no depth limit of its own: on the 8 MB stack of a main thread, 10,000 chained
``and`` (valid Python) or 10,000 ``elif`` overflow it, and the process dies
with a segmentation fault, which no ``except`` can catch. libcst's code
generation (positions) and our rules recurse in Python, and hit the recursion
limit on such trees. Both run fine on a thread with a stack of its own.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Callable, List, Optional, Tuple, TypeVar

T = TypeVar("T")

# Reserved, not used: the system commits pages only as the stack grows.
STACK_BYTES = 512 * 1024 * 1024
# Python frames allowed while retrying a file that hit the normal limit; the
# thread's stack holds that many of libcst's code generation frames.
DEEP_RECURSION_LIMIT = 200_000


class _DeepThread:
    """One daemon thread with a large stack that runs calls handed to it
    (concurrent.futures would do, but costs milliseconds to import on every run)."""

    def __init__(self) -> None:
        import _queue

        self.tasks = _queue.SimpleQueue()
        self.busy = False
        self.thread = threading.Thread(target=self._serve, name="kerasmode-lint-deep", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            function, args, box, done = self.tasks.get()
            self.busy = True
            try:
                box.append((True, function(*args)))
            except BaseException as exc:  # handed back to the caller, which raises it
                box.append((False, exc))
            finally:
                self.busy = False
                done.release()

    def call(self, function: Callable[..., T], *args) -> T:
        box: List[Tuple[bool, object]] = []
        done = threading.Lock()
        done.acquire()
        self.tasks.put((function, args, box, done))
        with _interruptible():
            done.acquire()  # released by the thread when the call is over
        ok, value = box[0]
        if ok:
            return value  # type: ignore[return-value]
        raise value  # type: ignore[misc]


class _interruptible:
    """While the main thread waits for the large-stack thread, Ctrl-C ends
    the process at once, by the signal (the shell reports 130), as an
    uncaught KeyboardInterrupt does: libcst's native parser holds the
    interpreter lock, so Python's SIGINT handler would run only when the
    parse is over, seconds later. Nothing is being written meanwhile (the
    main thread is waiting). Left alone when SIGINT is not Python's default
    (a host installed its own handler, a pool worker ignores it), or off the main thread."""

    def __enter__(self) -> None:
        import signal

        self.restore = None
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                self.restore = signal.default_int_handler

    def __exit__(self, *exc) -> None:
        if self.restore is not None:
            import signal

            signal.signal(signal.SIGINT, self.restore)


_deep: Optional[_DeepThread] = None
_deep_pid = 0
_lock = threading.Lock()


def _deep_thread() -> Optional[_DeepThread]:
    global _deep, _deep_pid
    with _lock:
        # A forked worker inherits the object but not its thread: make its own.
        if _deep is None or _deep_pid != os.getpid():
            try:
                previous = threading.stack_size(STACK_BYTES)
            except (ValueError, RuntimeError):  # a platform without settable stacks
                return None
            try:
                deep = _DeepThread()  # the thread starts now, with the large stack
            except RuntimeError:  # no thread could be started (memory limits)
                return None
            finally:
                threading.stack_size(previous)
            _deep, _deep_pid = deep, os.getpid()
        return _deep


def busy() -> bool:
    """Is the large-stack thread in the middle of a call (one its caller, say
    interrupted by Ctrl-C, no longer waits for)? The interpreter must then not
    shut down normally: finalising while that thread runs aborts the process."""
    deep = _deep
    return deep is not None and _deep_pid == os.getpid() and deep.busy


def call(function: Callable[..., T], *args) -> T:
    """``function(*args)`` on the large-stack thread (here if there is none)."""
    if threading.current_thread().name.startswith("kerasmode-lint-deep"):
        return function(*args)
    deep = _deep_thread()
    if deep is None:
        return function(*args)
    return deep.call(function, *args)


def call_deeply_recursive(function: Callable[..., T], *args) -> T:
    """``function(*args)`` on the large-stack thread with the recursion limit
    raised while it runs (the limit is process-wide; the caller waits
    meanwhile). Without such a thread, as ``function(*args)``."""
    def raised() -> T:
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(max(previous, DEEP_RECURSION_LIMIT))
        try:
            return function(*args)
        finally:
            sys.setrecursionlimit(previous)

    if _deep_thread() is None:
        return function(*args)
    return call(raised)
