"""A per-folder SQLite cache of article summaries plus an FTS5 index for full-text search.

One database per content root, under the user cache folder (`$XDG_CACHE_HOME/qt-tui/index/`),
named from a hash of the root's real path. It is only ever a cache: a file that is not a
database, has another schema version or belongs to another root is deleted and rebuilt.

Summaries are stored with :mod:`marshal` (see :func:`encode_article`): about four times faster to
read back than JSON, it keeps bytes, sets and shared strings as they are, and unlike pickle it
can only build plain data, never call code. A row that does not decode to the expected shape
counts as a cache miss and is parsed again from its file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import marshal
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from .article import Article, Problem, RelatedLink, Severity
from .library import id_key, url_key
from .quickscan import LeanValues
from .search import Query, SearchHit, make_snippet, parse_query

__all__ = [
    "SCHEMA_VERSION",
    "IndexCache",
    "SearchHit",
    "Stat",
    "SummaryArticle",
    "decode_article",
    "encode_article",
    "stat_key",
]

#: Bump whenever the tables or the summary encoding change: older caches are then rebuilt.
SCHEMA_VERSION = 5

#: Added to the database's file name for its snapshot (model/snapshot.py), which goes with it.
SNAPSHOT_SUFFIX = ".snapshot"

#: (size, mtime_ns, inode): a cached row is valid while all three are unchanged.
Stat = tuple[int, int, int]

_INODE_MASK = (1 << 63) - 1  # SQLite integers are signed 64-bit

_SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(
    rowid INTEGER PRIMARY KEY,
    relpath TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    loaded INTEGER NOT NULL,
    id, title TEXT, subject TEXT, date INTEGER, url TEXT, question TEXT, keywords TEXT,
    article BLOB
);
CREATE TABLE links(src INTEGER NOT NULL, handle TEXT NOT NULL);
CREATE INDEX links_by_handle ON links(handle);
CREATE INDEX links_by_src ON links(src);
CREATE VIRTUAL TABLE fts USING fts5(
    relpath UNINDEXED, title, subject, question, keywords, answer,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE pending(
    rowid INTEGER PRIMARY KEY, relpath, title, subject, question, keywords, answer
);
INSERT INTO meta VALUES ('schema', '{SCHEMA_VERSION}');
"""

#: Every write to the files table bumps this meta value (see :func:`bump_generation`): a
#: snapshot of the rows (model/snapshot.py) is valid only for the identity and generation it
#: was made from.
_GENERATION = "generation"
#: A random name given to each database when it is made: a rebuilt cache counts its
#: generations from zero again, so a generation alone could match a snapshot of the old one.
_IDENTITY = "identity"

#: Queries matching more files than this are ranked among their title (etc.) matches only.
RANK_LIMIT = 5_000

#: bm25 weights per fts column: relpath, title, subject, question, keywords, answer.
_WEIGHTS = "0.0, 10.0, 2.0, 4.0, 3.0, 1.0"


def stat_key(size: int, mtime_ns: int, inode: int) -> Stat:
    """The stat triple as stored (inode folded into SQLite's signed 64-bit range)."""
    return size, mtime_ns, inode & _INODE_MASK


# -- summary encoding -------------------------------------------------------------------------

_DATE, _DATETIME, _TUPLE, _SET = "\x00d", "\x00t", "\x00T", "\x00S"
_UNREAD: Any = object()  # SummaryArticle front matter not decoded yet
_DATES = (datetime.date, datetime.datetime)
_LINK_KEYS = ("id", "title", "subject", "url")
#: Text fields the front matter usually repeats; stored once (see _encode_detail).
_SHARED_FIELDS = (
    "title",
    "subject",
    "author",
    "url",
    "file_name",
    "question",
    "seo_title",
    "seo_description",
    "seo_keywords",
)


def _plain(value: Any) -> bool:
    """True when marshal round-trips `value` unchanged (no dates anywhere inside)."""
    kind = type(value)
    if kind in (str, int, float, bool, bytes) or value is None:
        return True
    if kind is list:
        return all(_plain(item) for item in value)
    if kind is dict:
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return False


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind in (str, int, float, bool, bytes) or value is None:
        return value
    if kind is datetime.datetime:
        return (_DATETIME, value.isoformat())
    if kind is datetime.date:
        return (_DATE, value.isoformat())
    if kind is list:
        return [_encode(item) for item in value]
    if kind is dict:
        return {_encode(k): _encode(v) for k, v in value.items()}
    if kind is tuple:
        return (_TUPLE, [_encode(item) for item in value])
    if kind in (set, frozenset):
        return (_SET, [_encode(item) for item in value])
    raise ValueError(f"cannot cache a {kind.__name__} value")


def _decode(value: Any) -> Any:
    kind = type(value)
    if kind is tuple:
        tag, payload = value
        if tag == _DATE:
            return datetime.date.fromisoformat(payload)
        if tag == _DATETIME:
            return datetime.datetime.fromisoformat(payload)
        if tag == _TUPLE:
            return tuple(_decode(item) for item in payload)
        if tag == _SET:
            return {_decode(item) for item in payload}
        raise ValueError("unknown tag")
    if kind is list:
        return [_decode(item) for item in value]
    if kind is dict:
        return {_decode(k): _decode(v) for k, v in value.items()}
    return value


def _is_link(value: Any, link: RelatedLink) -> bool:
    """True when a related_articleN mapping is exactly what its RelatedLink holds."""
    if type(value) is not dict or len(value) != 4 or tuple(value) != _LINK_KEYS:
        return False
    ident, title, subject, url = value.values()
    return (
        type(ident) is type(link.id)
        and ident == link.id
        and type(title) is str
        and title == link.title
        and type(subject) is str
        and subject == link.subject
        and type(url) is str
        and url == link.url
    )


def _encode_detail(article: Article) -> bytes:
    """The front matter of an article (decoded only when first used).

    What the article's own fields already hold is not stored twice: a related_articleN
    mapping that says just what its RelatedLink says, and any text (top level or one level
    down, like `seo.title`) equal to one of the text fields, are stored as references.
    """
    links = {link.key: link for link in article.related}
    texts: dict[str, int] = {}
    for number, name in enumerate(_SHARED_FIELDS):
        texts.setdefault(getattr(article, name), number)
    texts.pop("", None)
    front_matter = dict(article.front_matter)
    linked: list[str] = []
    refs: list[tuple[str, Any, int]] = []
    special: list[str] = []
    for key, value in front_matter.items():
        kind = type(value)
        if kind is str:
            if (index := texts.get(value)) is not None:
                refs.append((key, None, index))
                front_matter[key] = None
        elif kind is dict:
            if key in links and _is_link(value, links[key]):
                linked.append(key)
                front_matter[key] = None
                continue
            nested = None
            for sub, item in value.items():
                if type(item) is str and (index := texts.get(item)) is not None:
                    nested = nested or dict(value)
                    nested[sub] = None
                    refs.append((key, sub, index))
            if nested is not None:
                front_matter[key] = nested
        elif kind in _DATES:
            special.append(key)  # usually just `date`
            front_matter[key] = _encode(value)
    try:
        return marshal.dumps((front_matter, tuple(special), tuple(linked), tuple(refs)))
    except ValueError:  # a date (or another value marshal lacks) deeper inside
        for key, value in front_matter.items():
            if key not in special and not _plain(value):
                special.append(key)
                front_matter[key] = _encode(value)
        return marshal.dumps((front_matter, tuple(special), tuple(linked), tuple(refs)))


def encode_article(article: Article) -> bytes:
    """An Article (minus path and relpath, the row's key) as compact marshal bytes.

    The fields the index needs at once come first; the front matter is a nested blob that
    :class:`SummaryArticle` decodes on first use.
    """
    head = (
        article.id,
        article.title,
        article.subject,
        article.date.toordinal() if article.date is not None else None,
        article.author,
        article.url,
        article.file_name,
        article.question,
        article.seo_title,
        article.seo_description,
        article.seo_keywords,
        article.answer,
        tuple(
            (link.key, link.number, link.id, link.title, link.subject, link.url)
            for link in article.related
        ),
        tuple((p.code, p.message, p.severity.value, p.line) for p in article.problems),
        article.partial,
    )
    return marshal.dumps((head, _encode_detail(article)))


def _decode_detail(detail: bytes, shared: tuple[Any, ...]) -> dict[str, Any]:
    """The front matter from :func:`_encode_detail`; `shared` is the text fields, then links."""
    front_matter, special, linked, refs = marshal.loads(detail)
    if type(front_matter) is not dict:
        raise TypeError("detail")
    for key in special:
        front_matter[key] = _decode(front_matter[key])
    if linked:
        by_key = {link.key: link for link in shared[-1]}
        for key in linked:
            link = by_key[key]
            front_matter[key] = {k: getattr(link, k) for k in _LINK_KEYS}
    for key, sub, index in refs:
        if sub is None:
            front_matter[key] = shared[index]
        else:
            front_matter[key][sub] = shared[index]
    return front_matter


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Article))


class SummaryArticle(Article):
    """An Article from the index whose `front_matter` is decoded on first use.

    Holding it encoded keeps a 100,000-article index smaller and quicker to load; once read,
    this is an ordinary Article. It compares equal to any Article with the same field values.
    """

    _fm: Any
    _detail: tuple[bytes, tuple[Any, ...]] | None

    @property
    def front_matter(self) -> dict[str, Any]:
        """The front matter (without the answer), decoded the first time it is asked for."""
        front_matter = self._fm
        if front_matter is _UNREAD:
            detail = self._detail
            try:
                if detail is None:
                    raise ValueError("no detail")
                front_matter = _decode_detail(*detail)
            except (EOFError, ValueError, TypeError, KeyError, IndexError, OverflowError):
                front_matter = self._reread()
            self._fm, self._detail = front_matter, None
        return front_matter  # type: ignore[no-any-return]

    @front_matter.setter
    def front_matter(self, value: dict[str, Any]) -> None:
        self._fm = value

    def _reread(self) -> dict[str, Any]:
        """The front matter from the file itself (a damaged cache row)."""
        from .loading import load_article

        parts = len(Path(self.relpath).parts)
        article = load_article(self.path, self.path.parents[parts - 1])
        article.front_matter.pop("answer", None)
        return article.front_matter

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Article):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELD_NAMES)

    __hash__ = None  # type: ignore[assignment]


def decode_article(
    blob: bytes, path: Path, relpath: str, strings: dict[str, str] | None = None
) -> Article:
    """The article stored by :func:`encode_article` (a :class:`SummaryArticle`).

    `strings`, shared over a whole index, makes equal titles and urls one object (related
    entries repeat their targets' titles and urls). Raises ValueError for bytes that are not
    an article.
    """
    try:
        head, detail = marshal.loads(blob)
        (
            ident,
            title,
            subject,
            ordinal,
            author,
            url,
            file_name,
            question,
            seo_title,
            seo_description,
            seo_keywords,
            answer,
            related,
            problems,
            partial,
        ) = head
        for text in (title, subject, author, url, file_name, question, answer):
            if type(text) is not str:
                raise TypeError("text field")
        if type(detail) is not bytes:
            raise TypeError("detail")
        if strings is not None:
            title = strings.setdefault(title, title)
            url = strings.setdefault(url, url)
            links = [
                RelatedLink(k, n, i, strings.setdefault(t, t), s, strings.setdefault(u, u))
                for k, n, i, t, s, u in related
            ]
        else:
            links = [RelatedLink(*values) for values in related]
        article = SummaryArticle(
            path,
            relpath,
            ident,
            title,
            subject,
            None if ordinal is None else datetime.date.fromordinal(ordinal),
            author,
            url,
            file_name,
            question,
            seo_title,
            seo_description,
            seo_keywords,
            answer,
            links,
            _UNREAD,
            [Problem(c, m, Severity(s), line) for c, m, s, line in problems] if problems else [],
            partial is True,
        )
        article._detail = (
            detail,
            (
                title,
                subject,
                author,
                url,
                file_name,
                question,
                seo_title,
                seo_description,
                seo_keywords,
                tuple(links),
            ),
        )
        return article
    except (EOFError, ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ValueError(f"not a cached article: {exc}") from None


# -- rows -------------------------------------------------------------------------------------

#: One file for the cache: relpath, stat, lean values (None: the file did not load), the
#: encoded summary (None: not read in full yet), its plain answer text and its link handles.
IndexRow = tuple[str, Stat, LeanValues | None, bytes | None, str | None, tuple[str, ...]]

#: What :meth:`IndexCache.entries` gives: relpath, stat, lean values, whole failed article.
CachedEntry = tuple[str, Stat, LeanValues | None, bytes | None]


def link_handles(links: Iterable[RelatedLink]) -> tuple[str, ...]:
    """What a related entry can match an article on: its id, url and file stem, as text."""
    handles: set[str] = set()
    for link in links:
        ident = id_key(link.id)
        if ident is not None:
            handles.add(f"id:{ident}")
        url = url_key(link.url)
        if url is not None:
            handles.add(f"url:{url}")
        stem = link.url.rstrip("/").rsplit("/", 1)[-1].lower()
        if stem:
            handles.add(f"stem:{stem}")
    return tuple(sorted(handles))


def row_of(article: Article, stat: Stat, blob: bytes, text: str | None) -> IndexRow:
    """The cache row of a summary (or a failed file) read by the full loader."""
    if not article.loaded:
        return article.relpath, stat, None, blob, text, ()
    date = article.date.toordinal() if article.date is not None else None
    lean = (
        article.id,
        article.title,
        article.subject,
        date,
        article.url,
        article.question,
        article.seo_keywords,
    )
    return article.relpath, stat, lean, blob, text, link_handles(article.related)


def store_rows(
    conn: sqlite3.Connection, rows: Sequence[IndexRow], replace: bool, defer: bool
) -> None:
    """Store rows in one transaction (`replace`: drop older rows of the same relpaths first;
    without it, rows another process stored meanwhile are replaced too)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if replace:
            delete_rows(conn, [(row[0],) for row in rows])
        first = int(conn.execute("SELECT max(rowid) FROM files").fetchone()[0] or 0) + 1
        try:
            conn.execute("SAVEPOINT new_rows")
            write_rows(conn, rows, first, defer)
            conn.execute("RELEASE new_rows")
        except sqlite3.IntegrityError:  # some were stored by another process first
            conn.execute("ROLLBACK TO new_rows")
            conn.execute("RELEASE new_rows")
            delete_rows(conn, [(row[0],) for row in rows])
            first = int(conn.execute("SELECT max(rowid) FROM files").fetchone()[0] or 0) + 1
            write_rows(conn, rows, first, defer)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def delete_rows(conn: sqlite3.Connection, keys: list[tuple[str]]) -> None:
    """Delete the rows of these relpaths with their links and search entries."""
    for table, column in (("fts", "rowid"), ("pending", "rowid"), ("links", "src")):
        conn.executemany(
            f"DELETE FROM {table} WHERE {column} = (SELECT rowid FROM files WHERE relpath = ?)",
            keys,
        )
    conn.executemany("DELETE FROM files WHERE relpath = ?", keys)
    if keys:
        bump_generation(conn)


def write_rows(conn: sqlite3.Connection, rows: Sequence[IndexRow], first: int, defer: bool) -> None:
    """Insert rows (new relpaths) from rowid `first` on, inside the caller's transaction."""
    conn.executemany(
        "INSERT INTO files(rowid, relpath, size, mtime_ns, inode, loaded,"
        " id, title, subject, date, url, question, keywords, article)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (rowid, rel, *stat_key(*stat), lean is not None, *(lean or NO_LEAN), blob)
            for rowid, (rel, stat, lean, blob, _, _) in enumerate(rows, start=first)
        ],
    )
    conn.executemany(
        "INSERT INTO links(src, handle) VALUES (?, ?)",
        [(rowid, handle) for rowid, row in enumerate(rows, start=first) for handle in row[5]],
    )
    write_search_text(conn, [(rowid, row) for rowid, row in enumerate(rows, start=first)], defer)
    if rows:
        bump_generation(conn)


def write_search_text(
    conn: sqlite3.Connection, rows: Sequence[tuple[int, IndexRow]], defer: bool
) -> None:
    """Search entries for rows that have their answer text (the others get one later)."""
    conn.executemany(
        f"INSERT INTO {'pending' if defer else 'fts'}"
        "(rowid, relpath, title, subject, question, keywords, answer)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (rowid, rel, lean[1], lean[2], lean[5], lean[6], text)
            for rowid, (rel, _, lean, _, text, _) in rows
            if lean is not None and text is not None
        ],
    )


#: The lean columns of a file that did not load.
NO_LEAN = (None,) * 7


# -- the database -----------------------------------------------------------------------------


def _busy(exc: sqlite3.DatabaseError) -> bool:
    """True for "database is locked/busy": another process is using it, nothing is broken."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    """True for errors that mean the database file itself is broken."""
    if isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError | sqlite3.IntegrityError):
        return False
    text = str(exc).lower()
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return True
    return not isinstance(exc, sqlite3.OperationalError)


def bump_generation(conn: sqlite3.Connection) -> None:
    """Mark a change to the files table (inside the caller's transaction) with a new random
    generation: a counter could repeat a stamped value with other rows after a power loss
    took its last commits back."""
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_GENERATION, os.urandom(8).hex()))


def _generation_of(conn: sqlite3.Connection) -> tuple[str, str] | None:
    rows = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN (?, ?)", (_IDENTITY, _GENERATION)
        ).fetchall()
    )
    identity = rows.get(_IDENTITY)
    if identity is None:
        return None
    return str(identity), str(rows.get(_GENERATION) or "0")


def read_consistent(database: Path) -> tuple[tuple[str, str] | None, list[CachedEntry]]:
    """Every row of a cache database with the identity and generation they are at, read in
    one transaction on a read-only connection of its own (for a snapshot, in another process).
    Raises sqlite3.Error when the database cannot be read."""
    with contextlib.closing(_read_only(database)) as reader:
        reader.execute("BEGIN")  # one read snapshot for the meta values and the rows
        state = _generation_of(reader)
        rows = list(_entries_of(reader.execute(_ENTRIES)))
        reader.execute("COMMIT")
    return state, rows


def _name_database(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_IDENTITY, os.urandom(8).hex()))


def read_stats(database: Path) -> dict[str, Stat]:
    """Every cached file's stat, read on a read-only connection of its own (in a worker).
    Raises sqlite3.Error when the database cannot be read."""
    with contextlib.closing(_read_only(database)) as reader:
        return _stats_of(reader)


def _read_only(database: Path) -> sqlite3.Connection:
    """A read-only connection of its own to a cache database (autocommit: BEGIN is explicit;
    usable from any thread). Raises sqlite3.Error, OSError or ValueError when it cannot be had."""
    uri = Path(database).resolve().as_uri() + "?mode=ro"
    reader = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    reader.execute("PRAGMA busy_timeout = 5000")
    return reader


def _stats_of(conn: sqlite3.Connection) -> dict[str, Stat]:
    rows = conn.execute("SELECT relpath, size, mtime_ns, inode FROM files")
    return {relpath: (size, mtime, inode) for relpath, size, mtime, inode in rows}


def _remove_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", SNAPSHOT_SUFFIX):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    for part in path.parent.glob(f"{path.name}{SNAPSHOT_SUFFIX}.*.tmp"):
        part.unlink(missing_ok=True)  # left by a snapshot writer that was killed


_ENTRIES = (
    "SELECT relpath, size, mtime_ns, inode, loaded,"
    " id, title, subject, date, url, question, keywords,"
    " CASE WHEN loaded THEN NULL ELSE article END FROM files"
)


def _entries_of(cursor: sqlite3.Cursor) -> Iterator[CachedEntry]:
    for rel, size, mtime, inode, loaded, *values, blob in cursor:
        lean = tuple(values) if loaded else None
        yield rel, (size, mtime, inode), lean, blob


class IndexCache:
    """Cached summaries and the search index of one content root (thread-safe)."""

    def __init__(self, connection: sqlite3.Connection, root: Path, path: Path | None) -> None:
        self.root = root
        #: The database file; None for an in-memory (temporary) index.
        self.path = path
        self._conn = connection
        self._lock = threading.RLock()
        #: The database file other processes may open (a temporary one for in_memory).
        self.database: Path | None = path
        self._temporary: Path | None = None
        self._closed = False

    # -- opening ----------------------------------------------------------------------------
    @staticmethod
    def location(root: Path) -> Path:
        """Where the cache of `root` lives: named from a hash of its real path."""
        real = str(Path(root).resolve())
        digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return Path(platformdirs.user_cache_dir("qt-tui")) / "index" / f"{digest}.sqlite3"

    @classmethod
    def open(cls, root: Path, *, rebuild: bool = False) -> IndexCache:
        """Open (or create) the cache of `root`; `rebuild` starts from an empty one.

        A corrupt file, another schema version or another root's cache is deleted and rebuilt.
        Raises sqlite3.Error or OSError when the cache cannot be used at all (a locked
        database, an unwritable cache folder): run without one then (or use :meth:`in_memory`).
        """
        path = cls.location(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        if rebuild:
            _remove_files(path)
        real = str(Path(root).resolve())
        try:
            return cls._connect(path, root, real)
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise  # another qt-tui holds it: not damage, never delete it
            _remove_files(path)
            return cls._connect(path, root, real)

    @classmethod
    def in_memory(cls, root: Path) -> IndexCache:
        """A private, temporary index (deleted on close) for running without a cache.

        It is a file in a new temporary folder, so the indexing processes can write to it
        like to the real cache.
        """
        folder = Path(tempfile.mkdtemp(prefix="qt-tui-index-"))
        database = folder / "index.sqlite3"
        try:
            connection = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = OFF")
            connection.executescript(_SCHEMA)
            connection.execute("INSERT INTO meta VALUES ('root', ?)", (str(Path(root).resolve()),))
            _name_database(connection)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        cache = cls(connection, root, None)
        cache.database, cache._temporary = database, folder
        return cache

    @classmethod
    def _connect(cls, path: Path, root: Path, real: str) -> IndexCache:
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if tables:
                meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
                if meta.get("schema") != str(SCHEMA_VERSION) or meta.get("root") != real:
                    raise sqlite3.DatabaseError("stale cache")
                connection.execute("SELECT count(*) FROM files").fetchone()
                if _IDENTITY not in meta:  # made by an earlier qt-tui
                    _name_database(connection)
            else:
                connection.executescript(_SCHEMA)
                connection.execute("INSERT INTO meta VALUES ('root', ?)", (real,))
                _name_database(connection)
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return cls(connection, root, path)

    def _failed(self, exc: sqlite3.DatabaseError) -> None:
        """After an error: only damage (a file that is not, or no longer, a database) makes
        the cache start again empty. A busy database, a full disk, or a use after close (a
        background job finishing as the app quits) leaves it alone: that use goes without."""
        if self._closed or not _damaged(exc):
            return
        self._reset()

    def _reset(self) -> None:
        """Throw the damaged cache away and start an empty one in its place."""
        self._conn.close()
        fresh = None
        if self.path is not None:
            try:
                _remove_files(self.path)
                fresh = IndexCache._connect(self.path, self.root, str(Path(self.root).resolve()))
            except (OSError, sqlite3.Error):
                self.path = None  # carry on with a temporary index
        if fresh is None:
            fresh = IndexCache.in_memory(self.root)
            if self._temporary is not None:
                shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = fresh._temporary
        self._conn = fresh._conn
        self.database = fresh.database

    # -- rows -------------------------------------------------------------------------------
    def count(self) -> int:
        """How many files the cache holds."""
        return self._count("files")

    def pending(self) -> int:
        """How many files' search text waits for :meth:`index_pending`."""
        return self._count("pending")

    def _count(self, table: str) -> int:
        with self._lock:
            try:
                return int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                return 0

    def listed(self) -> bool:
        """False while a build that lists the folder has not got to its end (it was stopped,
        or is still running): the rows are then true to their files, but files are missing,
        so the cache is not to be taken as the whole folder (build with `verify`)."""
        with self._lock:
            try:
                row = self._conn.execute("SELECT 1 FROM meta WHERE key = 'unlisted'").fetchone()
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                return False
        return row is None

    def set_listed(self, listed: bool) -> None:
        """Say whether the rows cover every content file of the folder (see :meth:`listed`)."""
        with self._lock:
            try:
                if listed:
                    self._conn.execute("DELETE FROM meta WHERE key = 'unlisted'")
                else:
                    self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('unlisted', '1')")
            except sqlite3.DatabaseError as exc:
                self._failed(exc)

    def generation(self) -> tuple[str, str] | None:
        """The database's identity and the generation of its files table (a new random one
        at every write), or None for a database without an identity."""
        with self._lock:
            try:
                return _generation_of(self._conn)
            except (sqlite3.DatabaseError, ValueError) as exc:
                if isinstance(exc, sqlite3.DatabaseError):
                    self._failed(exc)
                return None

    def stats(self) -> dict[str, Stat]:
        """Every cached file's (size, mtime_ns, inode), by relpath."""
        with self._lock:
            try:
                return _stats_of(self._conn)
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                return {}

    @property
    def snapshot_file(self) -> Path | None:
        """Where the snapshot of this cache's rows is kept (None for a temporary index)."""
        return Path(f"{self.path}{SNAPSHOT_SUFFIX}") if self.path is not None else None

    def entries(self) -> Iterator[CachedEntry]:
        """Every cached file, streamed: (relpath, stat, lean values or None, whole article).

        Loaded articles come with their lean values and no blob; files that failed to load
        come with lean values None and their whole encoded Article (problems included). A
        damaged database ends the stream early (and is rebuilt empty).

        The rows come from a read-only connection of their own, a snapshot of the database
        as the stream starts: a background pass over every row then neither holds the lock
        the article the user opens waits for, nor sees a row twice when a save or a live
        change rewrites it meanwhile (which made an existing file look deleted).
        """
        query = _ENTRIES
        reader = self._reader()
        try:
            if reader is None:  # no file to open again: stream under the lock
                with self._lock:
                    yield from _entries_of(self._conn.execute(query))
                return
            with contextlib.closing(reader):
                yield from _entries_of(reader.execute(query))
        except sqlite3.DatabaseError as exc:
            with self._lock:
                self._failed(exc)

    def _reader(self) -> sqlite3.Connection | None:
        """A read-only connection to the cache database, or None if it cannot be had."""
        if self.database is None or self._closed:
            return None
        try:
            return _read_only(self.database)
        except (sqlite3.Error, OSError, ValueError):
            return None

    def detail(self, relpath: str) -> bytes | None:
        """The encoded summary of one file, or None when it has not been read in full yet."""
        with self._lock:
            try:
                row = self._conn.execute(
                    "SELECT article FROM files WHERE relpath = ?", (relpath,)
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                return None
        return row[0] if row is not None else None

    def without_detail(self) -> list[tuple[str, Stat]]:
        """Files the quick pass listed that the detail pass has not read yet."""
        with self._lock:
            try:
                rows = self._conn.execute(
                    "SELECT relpath, size, mtime_ns, inode FROM files WHERE article IS NULL"
                    " ORDER BY rowid"
                ).fetchall()
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                return []
        return [(rel, (size, mtime, inode)) for rel, size, mtime, inode in rows]

    def linkers(self, handles: Iterable[str]) -> set[str]:
        """Relpaths of the files with a related entry matching any of these link handles."""
        wanted = list(handles)
        if not wanted:
            return set()
        with self._lock:
            try:
                rows = self._conn.execute(
                    "SELECT DISTINCT f.relpath FROM links l JOIN files f ON f.rowid = l.src"
                    f" WHERE l.handle IN ({', '.join('?' * len(wanted))})",
                    wanted,
                ).fetchall()
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                return set()
        return {row[0] for row in rows}

    def put(self, items: Iterable[tuple[Stat, Article, str]]) -> None:
        """Store (stat, summary, plain answer text) rows, replacing older ones, in one go."""
        self.put_encoded([(stat, a, encode_article(a), text) for stat, a, text in items])

    def put_encoded(
        self,
        items: Sequence[tuple[Stat, Article, bytes, str]],
        *,
        replace: bool = True,
        defer: bool = False,
    ) -> None:
        """Like :meth:`put` with summaries already encoded; `replace=False` for new paths only.

        `defer` stores the search text for :meth:`index_pending` instead of indexing it now.
        """
        self.put_rows(
            [row_of(a, stat, blob, text) for stat, a, blob, text in items], replace, defer
        )

    def put_rows(self, rows: Sequence[IndexRow], replace: bool = True, defer: bool = False) -> None:
        """Store rows made by the quick pass (lean values only) or the full loader."""
        if not rows:
            return
        with self._lock:
            try:
                self._put(rows, replace, defer)
            except sqlite3.DatabaseError as exc:
                self._failed(exc)

    def _put(self, rows: Sequence[IndexRow], replace: bool, defer: bool) -> None:
        store_rows(self._conn, rows, replace, defer)

    def delete(self, relpaths: Iterable[str]) -> None:
        """Drop the rows (and search entries) of these relative paths."""
        keys = [(rel,) for rel in relpaths]
        if not keys:
            return
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    delete_rows(self._conn, keys)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._failed(exc)

    def index_pending(self, batch: int = 2000, limit: int | None = None) -> int:
        """Move deferred search text into the search index, `batch` files per transaction.

        Safe to run in a background thread while the app searches and saves (each batch
        takes the lock briefly). Stops after about `limit` files; returns how many are left.
        """
        done = 0
        while limit is None or done < limit:
            with self._lock:
                try:
                    conn = self._conn
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        moved = conn.execute(
                            "INSERT INTO fts(rowid, relpath, title, subject, question, keywords,"
                            " answer) SELECT * FROM pending ORDER BY rowid LIMIT ?",
                            (batch,),
                        ).rowcount
                        conn.execute(
                            "DELETE FROM pending WHERE rowid IN"
                            " (SELECT rowid FROM pending ORDER BY rowid LIMIT ?)",
                            (batch,),
                        )
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                except sqlite3.DatabaseError as exc:
                    self._failed(exc)
                    return 0
            if moved <= 0:
                return 0
            done += moved
        return self.pending()

    # -- search -----------------------------------------------------------------------------
    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Best matches for what the user typed (any text is safe), best first.

        Ranked by bm25 with titles weighing most, then question, keywords, subject, answer.
        Ranking costs time per match, so a query matching more than :data:`RANK_LIMIT` files
        (a near-stopword, or a short prefix) is ranked among its title, question, keyword and
        subject matches only (whole words), then filled up unranked. Snippets come from the
        answer, matches between :data:`MARK_START` and :data:`MARK_END`.
        """
        parsed = parse_query(query)
        if parsed is None or limit <= 0:
            return []
        with self._lock:
            try:
                return self._search(parsed, limit)
            except sqlite3.OperationalError:
                return []  # e.g. a query term FTS5 cannot use; never the user's problem
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                return []

    def _search(self, query: Query, limit: int) -> list[SearchHit]:
        conn = self._conn

        def count(expression: str) -> int:
            sql = "SELECT count(*) FROM fts WHERE fts MATCH ?"
            return int(conn.execute(sql, (expression,)).fetchone()[0])

        def ranked(expression: str) -> list[tuple[int, float]]:
            sql = (
                f"SELECT rowid, bm25(fts, {_WEIGHTS}) AS score FROM fts WHERE fts MATCH ?"
                " ORDER BY score LIMIT ?"
            )
            return conn.execute(sql, (expression, limit)).fetchall()

        def unranked(expression: str, n: int) -> list[tuple[int, float]]:
            sql = "SELECT rowid, 0.0 FROM fts WHERE fts MATCH ? LIMIT ?"
            return conn.execute(sql, (expression, n)).fetchall()

        total = count(query.fts)
        if total == 0:
            return []
        if total <= RANK_LIMIT:
            top = ranked(query.fts)
        else:
            focused = f"{{title question keywords subject}} : ({query.exact})"
            found = count(focused)
            top = ranked(focused) if found <= RANK_LIMIT else unranked(focused, limit)
            if len(top) < limit:
                taken = {rowid for rowid, _ in top}
                more = unranked(query.fts, limit + len(top))
                top += [row for row in more if row[0] not in taken][: limit - len(top)]
        order = {rowid: (position, score) for position, (rowid, score) in enumerate(top)}
        rows = conn.execute(
            "SELECT rowid, relpath, title, subject, answer FROM fts"
            f" WHERE rowid IN ({', '.join('?' * len(order))})",
            tuple(order),
        ).fetchall()
        rows.sort(key=lambda row: order[row[0]][0])
        return [
            SearchHit(rel, title, subject, make_snippet(answer, query), order[rowid][1])
            for rowid, rel, title, subject, answer in rows
        ]

    def close(self) -> None:
        """Close the database (a temporary index is deleted)."""
        with self._lock:
            self._closed = True
            self._conn.close()
            if self._temporary is not None:
                shutil.rmtree(self._temporary, ignore_errors=True)
                self._temporary = None

    def __enter__(self) -> IndexCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
