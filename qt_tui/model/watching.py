"""Watch a content folder: filtered, debounced batches of article changes (no UI imports).

Apply a batch in this order: `moved` (drop old, load new), `deleted`, then `changed` and
`own_writes`; when `rescan` is set, reload the whole tree in the background instead.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_ATTRIB,
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from .files import is_content_file

log = logging.getLogger(__name__)

#: How long an `expect_own_write` registration waits for its event.
OWN_WRITE_TTL = 2.0
#: Where watchdog logs inotify queue overflows (it has no event type for them).
WATCHDOG_LOGGER = "watchdog.observers"
OVERFLOW_REASON = "event queue overflowed"

_FILE_CHANGES = frozenset(
    {
        EVENT_TYPE_CREATED,
        EVENT_TYPE_MODIFIED,
        EVENT_TYPE_CLOSED,
        EVENT_TYPE_ATTRIB,
        EVENT_TYPE_DELETED,
    }
)
#: Event classes worth delivering. Leaving out opens, read-only closes and folder
#: "modified" events also keeps them out of the inotify mask: reading every article
#: at load time costs no events.
_WANTED: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
_MAX_REASONS = 4
_JOIN_TIMEOUT = 5.0


@dataclass(frozen=True)
class ChangeBatch:
    """One debounced set of content-file changes (absolute paths, each at most once)."""

    changed: frozenset[Path] = frozenset()
    deleted: frozenset[Path] = frozenset()
    moved: tuple[tuple[Path, Path], ...] = ()
    rescan: bool = False
    reason: str = ""
    own_writes: frozenset[Path] = frozenset()


@dataclass
class _Pending:
    """Changes collected since the last flush (guarded by the watcher's lock)."""

    touched: set[Path] = field(default_factory=set)
    moves: dict[Path, Path] = field(default_factory=dict)  # new -> old
    reasons: dict[str, None] = field(default_factory=dict)
    extra_reasons: int = 0
    first_at: float | None = None
    last_at: float = 0.0


class _Handler(FileSystemEventHandler):
    """Forwards every watchdog event to one callable."""

    def __init__(self, sink: Callable[[FileSystemEvent], None]) -> None:
        super().__init__()
        self._sink = sink

    def dispatch(self, event: FileSystemEvent) -> None:
        self._sink(event)


class _OverflowHandler(logging.Handler):
    """Spots watchdog's 'queue overflowed' warnings that concern one watcher."""

    def __init__(
        self, root: bytes, reader: Callable[[], int | None], notify: Callable[[], None]
    ) -> None:
        super().__init__(logging.WARNING)
        self._root = root
        self._reader = reader
        self._notify = notify

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" not in str(record.msg).lower():
            return
        args = record.args if isinstance(record.args, tuple) else ()
        paths = [os.fsencode(a) for a in args if isinstance(a, bytes | str)]
        if paths:
            if self._root not in paths:
                return
        else:
            reader = self._reader()
            if reader is not None and record.thread != reader:
                return
        self._notify()


def _native_observer() -> BaseObserver:
    """The platform's native observer (inotify on Linux); raises OSError at the limits."""
    return Observer()


def _observer_name(observer: BaseObserver) -> str:
    name = type(observer).__name__
    if name == "InotifyObserver":
        return "inotify"
    return "polling" if isinstance(observer, PollingObserver) else "native"


def _discard(observer: BaseObserver) -> None:
    """Stop an observer that may or may not have started, releasing its resources."""
    try:
        observer.stop()
    except Exception:  # pragma: no cover - best effort cleanup
        log.debug("stopping a failed observer", exc_info=True)
    if observer.is_alive():
        observer.join(_JOIN_TIMEOUT)


def _unwatched_folders(observer: BaseObserver, root: Path) -> int:
    """Folders inotify silently failed to watch (watch limit); 0 when it cannot tell.

    watchdog raises ENOSPC only for the root; for sub-folders it swallows the error, so
    compare its (private) watch table with the tree. Best effort: unknown internals -> 0.
    """
    emitters = list(observer.emitters)
    if len(emitters) != 1:
        return 0
    watched = getattr(getattr(emitters[0], "_inotify", None), "_active_callbacks_by_path", None)
    if not isinstance(watched, dict):
        return 0
    missing: set[bytes] = set()
    for dirpath, dirnames, _ in os.walk(os.fsencode(root)):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        missing.update(os.path.join(dirpath, d) for d in dirnames)
    for _ in range(4):
        try:
            missing.difference_update(list(watched))
        except RuntimeError:  # the table changed while being copied
            continue
        missing = {p for p in missing if os.path.isdir(p)}
        if not missing:
            return 0
        time.sleep(0.05)  # new folders get their watch from the event thread
    return len(missing)


class ContentWatcher:
    """Watch `root` recursively; call `on_batch` from the watcher's own thread.

    A batch is flushed `debounce` seconds after the last event, but at most `max_delay`
    seconds after its first one, so a continuous storm still makes progress.
    """

    def __init__(
        self,
        root: Path,
        on_batch: Callable[[ChangeBatch], None],
        *,
        debounce: float = 0.15,
        storm_threshold: int = 500,
        force_polling: bool = False,
        max_delay: float = 1.0,
        poll_interval: float = 1.0,
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self._watch_root = self.root.resolve()
        self._on_batch = on_batch
        self._debounce = debounce
        self._max_delay = max(max_delay, debounce)
        self._storm_threshold = storm_threshold
        self._force_polling = force_polling
        self._poll_interval = poll_interval
        self._cond = threading.Condition()
        self._pending = _Pending()
        self._own: dict[Path, float] = {}
        self._stopping = False
        self._lifecycle = threading.Lock()
        self._state = "new"
        self._mode = ""
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self._log_handler: _OverflowHandler | None = None

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """'inotify', 'native', 'polling' or 'polling (why)'; '' before start."""
        return self._mode

    def start(self) -> str:
        """Start watching (walks the tree once) and return the mode actually used."""
        with self._lifecycle:
            if self._state == "running":
                return self._mode
            if self._state == "stopped":
                raise RuntimeError("a stopped ContentWatcher cannot be restarted")
            if not self._watch_root.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(self.root))
            # watchdog warns (from its thread, onto stderr) when `mkdir -p` makes it add
            # the same watch twice; that is harmless and would scribble over a TUI.
            warnings.filterwarnings(
                "ignore", r"Callback with id .* already exists", RuntimeWarning, r"watchdog\."
            )
            self._install_overflow_handler()
            try:
                self._observer, self._mode = self._start_observer(_Handler(self._record))
            except BaseException:
                self._remove_overflow_handler()
                raise
            self._thread = threading.Thread(target=self._run, name="qt-tui-watcher", daemon=True)
            self._thread.start()
            self._state = "running"
            return self._mode

    def stop(self) -> None:
        """Stop and join the threads; pending changes are dropped. Idempotent."""
        with self._lifecycle:
            if self._state != "running":
                return
            self._state = "stopped"
            observer, thread = self._observer, self._thread
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if observer is not None:
            _discard(observer)
        self._remove_overflow_handler()
        if thread is not None and thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT)

    def expect_own_write(self, path: Path) -> None:
        """The app is about to write `path`: report it in the next batch's `own_writes`."""
        normal = self._normalise(os.fspath(path))
        if normal is None:
            return
        with self._cond:
            self._own[self.root / normal] = time.monotonic() + OWN_WRITE_TTL

    def _start_observer(self, handler: _Handler) -> tuple[BaseObserver, str]:
        if self._force_polling:
            return self._schedule(PollingObserver(timeout=self._poll_interval), handler), "polling"
        try:
            observer = self._schedule(_native_observer(), handler)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise
            why = exc.strerror or str(exc)
        else:
            missing = _unwatched_folders(observer, self._watch_root)
            if not missing:
                return observer, _observer_name(observer)
            _discard(observer)
            why = f"inotify watch limit reached, {missing} folders unwatched"
        log.warning("native file watching failed (%s); polling instead", why)
        polling = self._schedule(PollingObserver(timeout=self._poll_interval), handler)
        return polling, f"polling ({why})"

    def _schedule(self, observer: BaseObserver, handler: _Handler) -> BaseObserver:
        try:
            observer.schedule(handler, str(self._watch_root), recursive=True, event_filter=_WANTED)
            observer.start()
        except BaseException:
            _discard(observer)
            raise
        return observer

    def _install_overflow_handler(self) -> None:
        handler = _OverflowHandler(
            os.fsencode(str(self._watch_root)), self._reader_thread, self._note_overflow
        )
        logger = logging.getLogger(WATCHDOG_LOGGER)
        logger.addHandler(handler)
        if not logger.isEnabledFor(logging.WARNING):
            logger.setLevel(logging.WARNING)  # or the overflow warning is never emitted
        self._log_handler = handler

    def _remove_overflow_handler(self) -> None:
        if self._log_handler is not None:
            logging.getLogger(WATCHDOG_LOGGER).removeHandler(self._log_handler)
            self._log_handler = None

    def _reader_thread(self) -> int | None:
        """Ident of our observer's inotify reader thread, if known."""
        reader = getattr(self._observer, "_inotify_fd", None)
        return reader.ident if isinstance(reader, threading.Thread) else None

    def _note_overflow(self) -> None:
        with self._cond:
            self._add_reason(OVERFLOW_REASON)
            self._mark()

    # -- collecting (watchdog's thread) -----------------------------------------------------
    def _normalise(self, raw: str) -> Path | None:
        """`raw` relative to the root, or None when it is outside it."""
        if not raw:
            return None
        path = Path(os.path.abspath(raw))
        for base in (self._watch_root, self.root):
            try:
                return path.relative_to(base)
            except ValueError:
                continue
        return None

    def _content(self, raw: bytes | str) -> Path | None:
        """Absolute path of a content file in a visible folder, else None."""
        rel = self._normalise(os.fsdecode(raw))
        if rel is None or not rel.parts or not is_content_file(rel.name):
            return None
        if any(part.startswith((".", "__")) for part in rel.parts[:-1]):
            return None
        return self.root / rel

    def _folder(self, raw: bytes | str) -> str | None:
        """Relative name of a visible folder ('' for the root), else None."""
        rel = self._normalise(os.fsdecode(raw))
        if rel is None or any(part.startswith((".", "__")) for part in rel.parts):
            return None
        return rel.as_posix() if rel.parts else ""

    def _record(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if event.is_directory:
            self._record_folder(kind, event)
            return
        if kind in _FILE_CHANGES:
            path = self._content(event.src_path)
            if path is not None:
                with self._cond:
                    self._pending.touched.add(path)
                    self._mark()
        elif kind == EVENT_TYPE_MOVED:
            old = self._content(event.src_path)
            new = self._content(event.dest_path) if event.dest_path else None
            with self._cond:
                if old is not None and new is not None:
                    self._move(old, new)
                elif old is not None or new is not None:
                    # temp -> real name (atomic save) or real -> backup name (a.md -> a.md~)
                    self._pending.touched.update(p for p in (old, new) if p is not None)
                else:
                    return
                self._mark()

    def _record_folder(self, kind: str, event: FileSystemEvent) -> None:
        if kind not in (EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MOVED):
            return
        src = self._folder(event.src_path)
        if kind == EVENT_TYPE_MOVED:
            dest = self._folder(event.dest_path) if event.dest_path else None
            if src is None and dest is None:
                return
            reason = f"folder moved: {src or '(hidden)'} → {dest or '(hidden)'}"
        elif src is None or (src == "" and kind == EVENT_TYPE_CREATED):
            return
        elif src == "":
            reason = "the content folder was deleted"
        else:
            reason = f"folder {kind}: {src}"
        with self._cond:
            self._add_reason(reason)
            self._mark()

    def _move(self, old: Path, new: Path) -> None:
        """Record old -> new, collapsing chains (a -> b -> c is a -> c). Lock held."""
        moves = self._pending.moves
        origin = moves.pop(old, old)
        if origin == new:
            self._pending.touched.add(new)
            return
        replaced = moves.get(new)
        if replaced is not None:
            self._pending.touched.add(replaced)
        moves[new] = origin

    def _add_reason(self, reason: str) -> None:
        pending = self._pending
        if reason in pending.reasons:
            return
        if len(pending.reasons) < _MAX_REASONS:
            pending.reasons[reason] = None
        else:
            pending.extra_reasons += 1

    def _mark(self) -> None:
        """Note an event's time; wake the flusher on a batch's first event. Lock held."""
        now = time.monotonic()
        if self._pending.first_at is None:
            self._pending.first_at = now
            self._cond.notify_all()
        self._pending.last_at = now

    # -- flushing (the watcher's thread) ----------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._pending.first_at is None:
                    self._cond.wait()
                while not self._stopping:
                    first = self._pending.first_at or 0.0
                    due = min(self._pending.last_at + self._debounce, first + self._max_delay)
                    wait = due - time.monotonic()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopping:
                    return
                pending, self._pending = self._pending, _Pending()
            batch = self._build(pending)
            try:
                self._on_batch(batch)
            except Exception:
                log.exception("file-change callback failed")

    def _build(self, pending: _Pending) -> ChangeBatch:
        """Turn collected events into a batch, deciding by what exists on disk now."""
        touched = set(pending.touched)
        moved: list[tuple[Path, Path]] = []
        involved: set[Path] = set()
        for new, old in pending.moves.items():
            if old not in involved and new.exists() and not old.exists():
                moved.append((old, new))
                involved.update((old, new))
            else:
                touched.update((old, new))
        touched -= involved
        changed = {path for path in touched if path.exists()}
        deleted = frozenset(touched - changed)
        now = time.monotonic()
        with self._cond:
            self._own = {path: until for path, until in self._own.items() if until > now}
            own = frozenset(path for path in changed if path in self._own)
            for path in own:
                del self._own[path]
        reasons = list(pending.reasons)
        if pending.extra_reasons:
            reasons.append(f"and {pending.extra_reasons} more")
        count = len(touched) + len(involved)
        if count > self._storm_threshold:
            reasons.insert(0, f"{count} files changed at once")
        return ChangeBatch(
            changed=frozenset(changed - own),
            deleted=deleted,
            moved=tuple(sorted(moved)),
            rescan=bool(reasons),
            reason="; ".join(reasons),
            own_writes=own,
        )
