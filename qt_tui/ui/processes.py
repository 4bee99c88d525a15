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
    The app calls this on its own thread as its first frame is drawn (the stand-in stderr
    is swapped for the process while the tracker starts); later calls do nothing.
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
