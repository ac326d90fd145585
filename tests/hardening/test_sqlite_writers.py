"""Two processes writing one SQLite file (the worker and the web app in development): a
transaction that read first (inside a savepoint, as the engine does) and writes later must
not fail with "database is locked" because the other committed in between (WAL snapshot
upgrade); it waits its turn instead."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from journeykit.foundation.db import make_engine, session_scope


def test_read_then_write_survives_a_concurrent_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    first, second = make_engine(url), make_engine(url)
    with session_scope(first) as s:
        s.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        s.execute(text("INSERT INTO counter VALUES (1, 0), (2, 0)"))
    has_read = threading.Event()
    errors: list[BaseException] = []

    def reader_then_writer() -> None:
        try:
            with session_scope(first) as s:
                s.execute(text("SELECT n FROM counter WHERE id = 2")).one()
                savepoint = s.begin_nested()  # as the engine does per enrollment
                s.execute(text("SELECT n FROM counter WHERE id = 1")).one()
                has_read.set()
                threading.Event().wait(0.3)  # the other process commits meanwhile
                s.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
                savepoint.commit()
        except BaseException as exc:
            errors.append(exc)
            has_read.set()

    def other_writer() -> None:
        has_read.wait(5)
        try:
            with session_scope(second) as s:
                s.execute(text("UPDATE counter SET n = n + 10 WHERE id = 2"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader_then_writer), threading.Thread(target=other_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with first.connect() as c:
        assert c.execute(text("SELECT n FROM counter ORDER BY id")).scalars().all() == [1, 10]
