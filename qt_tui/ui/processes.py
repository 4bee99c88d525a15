"""Worker processes from inside a running Textual app."""

from __future__ import annotations

import os
import sys
import threading

_LOCK = threading.Lock()
_started = False


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with the real stderr.

    Textual replaces `sys.stderr` with an object whose file descriptor cannot be passed to
    a child process, so the tracker (needed by every process pool and lock made with the
    forkserver) fails to start with "bad value(s) in fds_to_keep", and the pools with it.
    Called before the first pool is made: by a cold start before it reads the folder (on
    the app's thread), when the background work after a start begins, and by a rescan or a
    folder check (the stand-in stderr is swapped for the process while the tracker starts,
    under a lock); later calls do nothing. A warm start shows the index before paying it.
    """
    global _started
    if _started or os.name != "posix" or sys.__stderr__ is None:
        return
    from multiprocessing import resource_tracker

    with _LOCK:
        captured = sys.stderr
        sys.stderr = sys.__stderr__
        try:
            resource_tracker.ensure_running()
            _started = True
        finally:
            sys.stderr = captured
