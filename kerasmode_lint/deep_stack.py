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
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")

# Reserved, not used: the system commits pages only as the stack grows.
STACK_BYTES = 512 * 1024 * 1024
# Python frames allowed while retrying a file that hit the normal limit; the
# thread's stack holds that many of libcst's code generation frames.
DEEP_RECURSION_LIMIT = 200_000

_executor: "Optional[ThreadPoolExecutor]" = None
_executor_pid = 0
_lock = threading.Lock()


def _deep_executor() -> "Optional[ThreadPoolExecutor]":
    from concurrent.futures import ThreadPoolExecutor

    global _executor, _executor_pid
    with _lock:
        # A forked worker inherits the executor but not its thread: make its own.
        if _executor is None or _executor_pid != os.getpid():
            try:
                previous = threading.stack_size(STACK_BYTES)
            except (ValueError, RuntimeError):  # a platform without settable stacks
                return None
            try:
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kerasmode-lint-deep")
                executor.submit(int).result()  # the thread starts now, with the large stack
            except RuntimeError:  # no thread could be started (memory limits)
                return None
            finally:
                threading.stack_size(previous)
            _executor, _executor_pid = executor, os.getpid()
        return _executor


def call(function: Callable[..., T], *args) -> T:
    """``function(*args)`` on the large-stack thread (here if there is none)."""
    if threading.current_thread().name.startswith("kerasmode-lint-deep"):
        return function(*args)
    executor = _deep_executor()
    if executor is None:
        return function(*args)
    return executor.submit(function, *args).result()


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

    if _deep_executor() is None:
        return function(*args)
    return call(raised)
