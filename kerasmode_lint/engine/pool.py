"""A process pool in which one file that kills its worker costs that file only.

Linting cannot raise (engine.lint_bytes turns every exception into a KM001),
but a worker process can still die: a crash in libcst's native parser, or the
system killing it for memory. ``concurrent.futures`` then fails every pending
task with BrokenProcessPool, and the run would end with a traceback. Here the
unfinished work is retried: the chunks that may have been running are re-run
one file at a time in a single worker, which pins the file that kills it; that
file gets ``on_crash``'s result and the rest goes back to the parallel pool.

Ctrl-C: the workers ignore SIGINT (the terminal sends it to all of them); the
parent, interrupted, kills them and returns at once instead of letting them
finish the batch (what leaving a ``with ProcessPoolExecutor`` block does).
"""
from __future__ import annotations

import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

Work = Callable[[Sequence[Any]], List[Any]]  # a chunk of items -> one result per item
OnCrash = Callable[[Any, str], Any]  # (item, reason) -> the result for that item


def run_isolated(
    work: Work,
    chunks: Sequence[Sequence[Any]],
    workers: int,
    on_crash: OnCrash,
    mp_context=None,
    on_done: Callable[[int], None] = lambda count: None,
) -> List[List[Any]]:
    """``[work(chunk) for chunk in chunks]``, computed in ``workers`` processes;
    ``on_done(n)`` hears of every n items finished (for a progress meter)."""
    results: Dict[int, List[Any]] = {}
    todo: List[Tuple[int, Sequence[Any]]] = list(enumerate(chunks))
    while todo:
        unfinished = _round(work, todo, workers, mp_context, results, on_done)
        # Workers take chunks in submission order, so the chunks that were
        # running when a worker died are among the first unfinished ones.
        suspects, todo = unfinished[:workers], unfinished[workers:]
        for number, chunk in suspects:
            results[number] = _one_by_one(work, chunk, mp_context, on_crash)
            on_done(len(chunk))
    return [results[number] for number in range(len(chunks))]


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(workers: int, mp_context) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp_context, initializer=_ignore_interrupts)


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the pool now: pending work cancelled, running workers killed."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):
            pass
    for process in processes:
        try:
            process.join(1)
        except (OSError, ValueError, AssertionError):
            pass


def _round(work, todo, workers, mp_context, results, on_done) -> List[Tuple[int, Sequence[Any]]]:
    """Run ``todo`` in parallel; return the chunks left without a result."""
    unfinished = []
    pool = _pool(min(workers, len(todo)), mp_context)
    try:
        futures = [(number, chunk, pool.submit(work, chunk)) for number, chunk in todo]
        for number, chunk, future in futures:
            outcome, _ = _outcome(future)
            if outcome is None:
                unfinished.append((number, chunk))
            else:
                results[number] = outcome
                on_done(len(outcome))
    except BaseException:  # Ctrl-C
        _stop(pool)
        raise
    pool.shutdown()
    return unfinished


def _one_by_one(work: Work, chunk: Sequence[Any], mp_context, on_crash: OnCrash) -> List[Any]:
    """The results of ``chunk``'s items, each computed alone in one worker."""
    done: List[Any] = []
    while len(done) < len(chunk):
        rest = chunk[len(done):]
        pool = _pool(1, mp_context)
        try:
            futures = [pool.submit(work, [item]) for item in rest]
            for future in futures:
                outcome, _ = _outcome(future)
                if outcome is None:
                    break
                done.extend(outcome)
        except BaseException:  # Ctrl-C
            _stop(pool)
            raise
        pool.shutdown()
        if len(done) < len(chunk):
            # One worker runs its items in order, so the first item without a
            # result was running when the worker died. Confirm it alone: a
            # result still in flight when the pool broke is not a crash.
            item = chunk[len(done)]
            pool = _pool(1, mp_context)
            try:
                outcome, reason = _outcome(pool.submit(work, [item]))
            except BaseException:  # Ctrl-C
                _stop(pool)
                raise
            pool.shutdown()
            done.extend(outcome if outcome is not None else [on_crash(item, reason)])
    return done


def _outcome(future: Future) -> Tuple[Optional[List[Any]], str]:
    """(the future's results, "") or (None, why there are none)."""
    try:
        return future.result(), ""
    except BrokenProcessPool:
        return None, "the worker process linting it died (a crash or out of memory)"
    except Exception as exc:  # an error the work let through: retried alone, then reported
        return None, f"{type(exc).__name__}: {exc}"
