"""Worker processes from inside a running Textual app."""

from __future__ import annotations

import os
import sys
import threading

_STARTED = threading.Lock()


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with the real stderr.

    Textual replaces `sys.stderr` with an object whose file descriptor cannot be passed to
    a child process, so the tracker (needed by every process pool and lock made with the
    forkserver) fails to start with "bad value(s) in fds_to_keep", and the pools with it.
    Call this before making processes from the app; it does nothing once the tracker runs.
    """
    if os.name != "posix" or sys.__stderr__ is None:
        return
    from multiprocessing import resource_tracker

    with _STARTED:
        captured = sys.stderr
        sys.stderr = sys.__stderr__
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = captured
