"""hyperdjango and Python's ``sqlite3`` (Django's ORM, a migration script) on one
SQLite file in one process.

Two copies of SQLite in a process drop each other's POSIX locks when either
closes the file (sqlite.org, "How To Corrupt An SQLite Database File", 2.2.1).
With the engine's own bundled copy, rows committed by ``atomic()`` stayed
invisible to other processes while Python's ``sqlite3`` opened and closed
the file. The engine now links the SQLite library Python's ``_sqlite3`` uses,
so there is one copy and one set of locks. Run out of process: the hazard is
about what one whole process does to a file.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sqlite3, subprocess, sys, tempfile
    from hyperdjango.database import Database, atomic

    path = os.path.join(tempfile.mkdtemp(), "db.sqlite3")

    def count_in_another_process():
        code = f"import sqlite3; print(sqlite3.connect({path!r}).execute('select count(*) from t').fetchone()[0])"
        return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)

    def django_style_visit():  # open, read, close: what Django's ORM does per request
        for _ in range(3):
            connection = sqlite3.connect(path)
            connection.execute("select count(*) from t").fetchone()
            connection.close()

    async def main():
        db = Database(f"sqlite:///{path}")
        await db.connect()
        await db.execute("create table t (id integer primary key, v text)")
        await db.execute("insert into t (v) values ('a')")
        django_style_visit()
        async with atomic(db):
            await db.execute("insert into t (v) values ('b')")
        django_style_visit()
        await db.execute("insert into t (v) values ('c')")
        print(await db.query_val("select count(*) from t"), count_in_another_process())
        await db.close()

    asyncio.run(main())
    """
)


def test_rows_committed_beside_pythons_sqlite3_are_visible_to_other_processes():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "3"]  # in the process, and in another one


def sqlite_libraries_loaded_by(module: str) -> set[str]:
    code = f"import {module}; print(open('/proc/self/maps').read())"
    maps = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in maps.splitlines() if "libsqlite3" in line}


def test_the_engine_loads_the_sqlite_library_pythons_sqlite3_loads():
    # A bundled copy is inside the extension itself: it loads no libsqlite3 at all.
    assert sqlite_libraries_loaded_by("hyperdjango._core") == sqlite_libraries_loaded_by("_sqlite3") != set()
