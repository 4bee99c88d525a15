"""ContentWatcher against the real watchdog observers on temporary folders."""

from __future__ import annotations

import errno
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qt_tui.model import watching
from qt_tui.model.watching import OVERFLOW_REASON, ChangeBatch, ContentWatcher

TIMEOUT = 5.0


class Recorder:
    """Collects batches from the watcher thread and waits for conditions on them."""

    def __init__(self) -> None:
        self.batches: list[ChangeBatch] = []
        self._cond = threading.Condition()

    def __call__(self, batch: ChangeBatch) -> None:
        with self._cond:
            self.batches.append(batch)
            self._cond.notify_all()

    def wait_for(self, check: Callable[[list[ChangeBatch]], bool], what: str) -> list[ChangeBatch]:
        deadline = time.monotonic() + TIMEOUT
        with self._cond:
            while not check(self.batches):
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"timed out waiting for {what}; got {self.batches!r}")
                self._cond.wait(min(left, 0.05))  # also sees state changed elsewhere
            return list(self.batches)

    def wait_path(self, path: Path) -> list[ChangeBatch]:
        return self.wait_for(lambda bs: any(path in everything(b) for b in bs), str(path))


Make = Callable[..., "tuple[ContentWatcher, Recorder]"]


def everything(batch: ChangeBatch) -> set[Path]:
    """Every path a batch mentions."""
    paths = set(batch.changed | batch.deleted | batch.own_writes)
    for old, new in batch.moved:
        paths.update((old, new))
    return paths


def write(path: Path, text: str = "---\ntitle: x\n---\nbody\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    write(content / "alpha" / "a.md")
    write(content / "alpha" / "b.md")
    write(content / "beta" / "c.md")
    return content


@pytest.fixture
def make_watcher(root: Path) -> Iterator[Make]:
    started: list[ContentWatcher] = []

    def make(**kwargs: object) -> tuple[ContentWatcher, Recorder]:
        recorder = Recorder()
        kwargs.setdefault("debounce", 0.1)
        watcher = ContentWatcher(root, recorder, **kwargs)  # type: ignore[arg-type]
        watcher.start()
        started.append(watcher)
        return watcher, recorder

    yield make
    for watcher in started:
        watcher.stop()


def settle(recorder: Recorder, root: Path, name: str = "zz-sentinel") -> list[ChangeBatch]:
    """Write a sentinel file and wait for it: every earlier event has been reported."""
    sentinel = root / f"{name}.md"
    write(sentinel)
    return recorder.wait_path(sentinel)


def test_create_modify_delete(root: Path, make_watcher: Make) -> None:
    _, rec = make_watcher()
    new = root / "alpha" / "new.md"
    write(new)
    batch = rec.wait_path(new)[-1]
    assert new in batch.changed and not batch.rescan

    existing = root / "alpha" / "b.md"
    write(existing, "---\ntitle: changed\n---\n")
    assert existing in rec.wait_path(existing)[-1].changed

    (root / "beta" / "c.md").unlink()
    batch = rec.wait_path(root / "beta" / "c.md")[-1]
    assert batch.deleted == {root / "beta" / "c.md"} and not batch.changed


def test_rename_in_folder_and_move_between_subjects(root: Path, make_watcher: Make) -> None:
    _, rec = make_watcher()
    old, new = root / "alpha" / "a.md", root / "alpha" / "renamed.md"
    os.rename(old, new)
    batch = rec.wait_path(new)[-1]
    assert batch.moved == ((old, new),)
    assert not batch.changed and not batch.deleted and not batch.rescan

    other = root / "beta" / "renamed.md"
    os.rename(new, other)
    batch = rec.wait_path(other)[-1]
    assert batch.moved == ((new, other),)
    assert not batch.changed and not batch.deleted


def test_rename_chain_collapses_to_one_move(root: Path, make_watcher: Make) -> None:
    _, rec = make_watcher(debounce=0.3)
    a, b, c = root / "alpha" / "a.md", root / "alpha" / "tmp-name.md", root / "beta" / "z.md"
    os.rename(a, b)
    os.rename(b, c)
    batches = settle(rec, root)
    moves = [m for batch in batches for m in batch.moved]
    mentioned = set().union(*(everything(batch) for batch in batches))
    if len(batches) == 1 or moves == [(a, c)]:  # both renames landed in one batch
        assert moves == [(a, c)] and b not in mentioned
    else:  # the debounce split them: still a consistent sequence
        assert moves == [(a, b), (b, c)]


@pytest.mark.parametrize("own", [False, True])
def test_atomic_save_is_one_change(root: Path, make_watcher: Make, own: bool) -> None:
    watcher, rec = make_watcher()
    target = root / "alpha" / "a.md"
    if own:
        watcher.expect_own_write(target)
    temp = target.parent / ".a.md.xyz123.qt-tmp"
    temp.write_bytes(b"---\ntitle: saved\n---\n")
    os.replace(temp, target)
    batches = settle(rec, root)
    hits = [batch for batch in batches if target in everything(batch)]
    assert len(hits) == 1
    assert (target in hits[0].own_writes) is own
    assert (target in hits[0].changed) is not own
    assert not hits[0].moved and not hits[0].deleted
    assert all(temp not in everything(batch) for batch in batches)


def test_own_write_registration_expires(
    root: Path, make_watcher: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watching, "OWN_WRITE_TTL", -1.0)
    watcher, rec = make_watcher()
    target = root / "alpha" / "a.md"
    watcher.expect_own_write(target)
    write(target, "---\ntitle: later\n---\n")
    batch = rec.wait_path(target)[-1]
    assert target in batch.changed and not batch.own_writes


def test_vim_backup_dance(root: Path, make_watcher: Make) -> None:
    _, rec = make_watcher(debounce=0.3)
    target = root / "alpha" / "a.md"
    backup = target.with_name("a.md~")
    os.rename(target, backup)
    write(target, "---\ntitle: vim\n---\n")
    backup.unlink()
    batches = settle(rec, root)
    mentioned = set().union(*(everything(batch) for batch in batches))
    assert backup not in mentioned
    last = [batch for batch in batches if target in everything(batch)][-1]
    assert target in last.changed


def test_hidden_folders_and_other_files_are_ignored(root: Path, make_watcher: Make) -> None:
    (root / ".git").mkdir()
    _, rec = make_watcher()
    write(root / ".git" / "x.md")
    write(root / "alpha" / "notes.txt", "plain")
    write(root / "alpha" / ".hidden.md")
    write(root / "alpha" / "#a.md#")
    write(root / ".cache" / "deep" / "y.md")  # a new hidden folder: no rescan either
    batches = settle(rec, root)
    assert [everything(batch) for batch in batches] == [{root / "zz-sentinel.md"}]
    assert not any(batch.rescan for batch in batches)


def test_new_folder_means_rescan_and_its_files_are_reported(root: Path, make_watcher: Make) -> None:
    _, rec = make_watcher()
    new = root / "gamma" / "g.md"
    write(new)
    batches = rec.wait_for(
        lambda bs: any(b.rescan for b in bs) and any(new in b.changed for b in bs),
        "a rescan and gamma/g.md",
    )
    rescans = [batch for batch in batches if batch.rescan]
    assert "folder created: gamma" in rescans[0].reason


def test_folder_rename_means_rescan(root: Path, make_watcher: Make) -> None:
    _, rec = make_watcher()
    os.rename(root / "beta", root / "beta2")
    batch = rec.wait_for(lambda bs: any(b.rescan for b in bs), "a rescan")[-1]
    assert "folder moved: beta → beta2" in batch.reason


def test_storm_is_coalesced(root: Path, make_watcher: Make) -> None:
    _, rec = make_watcher(debounce=0.15)
    paths = {root / "alpha" / f"storm-{i:04d}.md" for i in range(2000)}
    for path in sorted(paths):
        path.write_bytes(b"---\ntitle: storm\n---\n")
    rec.wait_for(
        lambda bs: paths <= set().union(*(everything(b) for b in bs)) or any(b.rescan for b in bs),
        "all storm files or a rescan",
    )
    batches = settle(rec, root)
    assert len(batches) <= 10
    assert paths <= set().union(*(everything(batch) for batch in batches))
    for batch in batches:  # more than storm_threshold paths in one batch means a rescan
        assert batch.rescan == (len(everything(batch)) > 500)
        assert not batch.rescan or "files changed at once" in batch.reason
        olds = [old for old, _ in batch.moved]
        news = [new for _, new in batch.moved]
        groups = [batch.changed, batch.deleted, batch.own_writes, olds, news]
        assert sum(len(group) for group in groups) == len(everything(batch))


def test_polling_mode(root: Path, make_watcher: Make) -> None:
    watcher, rec = make_watcher(force_polling=True, poll_interval=0.1)
    assert watcher.mode == "polling"
    new = root / "beta" / "polled.md"
    write(new)
    assert new in rec.wait_path(new)[-1].changed


def test_falls_back_to_polling_at_the_inotify_limit(
    root: Path, make_watcher: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted() -> object:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watching, "_native_observer", exhausted)
    watcher, rec = make_watcher(poll_interval=0.1)
    assert watcher.mode == "polling (inotify watch limit reached)"
    new = root / "beta" / "fallback.md"
    write(new)
    assert new in rec.wait_path(new)[-1].changed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux-only")
def test_native_mode_on_linux(root: Path, make_watcher: Make) -> None:
    (root / "alpha" / "deep" / "er").mkdir(parents=True)
    watcher, _ = make_watcher()
    assert watcher.mode == "inotify"


def test_overflow_warning_forces_a_rescan(root: Path, make_watcher: Make) -> None:
    watcher, rec = make_watcher()
    logger = logging.getLogger("watchdog.observers.inotify")
    message = "Inotify queue overflowed; reconciling recursive watches below %r"
    logger.warning(message, os.fsencode(root.parent / "someone-else"))  # another watcher's
    batches = settle(rec, root, "first")
    assert not any(batch.rescan for batch in batches)
    logger.warning(message, os.fsencode(str(watcher.root.resolve())))
    batch = rec.wait_for(lambda bs: bs[-1].rescan, "an overflow rescan")[-1]
    assert batch.reason == OVERFLOW_REASON


def test_callback_errors_do_not_stop_the_watcher(
    root: Path, make_watcher: Make, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder()
    calls: list[ChangeBatch] = []

    def flaky(batch: ChangeBatch) -> None:
        calls.append(batch)
        if len(calls) == 1:
            raise ValueError("boom")
        rec(batch)

    watcher = ContentWatcher(root, flaky, debounce=0.05)
    watcher.start()
    try:
        write(root / "alpha" / "one.md")
        rec.wait_for(lambda _: bool(calls), "the first call")
        second = root / "alpha" / "two.md"
        write(second)
        rec.wait_path(second)
    finally:
        watcher.stop()
    assert "file-change callback failed" in caplog.text


def test_stop_is_idempotent_and_joins_threads(root: Path) -> None:
    never = ContentWatcher(root, lambda batch: None)
    never.stop()
    assert never.mode == ""

    before = set(threading.enumerate())
    watcher = ContentWatcher(root, lambda batch: None)
    mode = watcher.start()
    assert watcher.start() == mode
    assert set(threading.enumerate()) - before
    watcher.stop()
    watcher.stop()
    assert not [t for t in set(threading.enumerate()) - before if t.is_alive()]
    with pytest.raises(RuntimeError):
        watcher.start()


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        ContentWatcher(tmp_path / "nope", lambda batch: None).start()


def test_reading_files_reports_nothing(root: Path, make_watcher: Make) -> None:
    _, rec = make_watcher()
    for path in root.rglob("*.md"):
        path.read_bytes()
    batches = settle(rec, root)
    assert [everything(batch) for batch in batches] == [{root / "zz-sentinel.md"}]
