"""Thread pools that let go at once when an exception (Ctrl-C, SIGTERM's handler) unwinds."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


@contextmanager
def unwinding_pool(workers: int, prefix: str) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that waits for its work on a normal exit but not while an exception unwinds.

    A plain `with ThreadPoolExecutor()` waits for requests in flight even on Ctrl-C or a SIGTERM
    handler raising: against a slow server that is minutes. Abandoned requests end on their own
    (the client's deadline); their results are dropped.
    """
    pool = ThreadPoolExecutor(workers, thread_name_prefix=prefix)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
