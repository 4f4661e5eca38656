"""SQLite running out of space during writes (a file size limit, as a full disk looks to
it): a clear error, and the database intact with every committed row."""

from __future__ import annotations

import subprocess
import sys
import textwrap

WRITER = textwrap.dedent(
    """
    import asyncio, resource, signal, sys
    from hyperdjango.database import Database, DatabaseError

    async def main(path):
        db = Database(f"sqlite:///{path}")
        await db.execute("CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, data BLOB)")
        # From here the file may not grow past 512 KiB: writes fail as on a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, 512 * 1024))
        committed = 0
        try:
            for i in range(10_000):
                await db.execute("INSERT INTO blobs (data) VALUES ($1)", b"x" * 4096)
                committed += 1
        except DatabaseError as e:
            print(f"{committed} {type(e).__name__}: {e}")
        else:
            print(f"{committed} no error")
        await db.close()

    asyncio.run(main(sys.argv[1]))
    """
)


def test_a_full_disk_is_a_clear_error_and_leaves_the_database_intact(tmp_path):
    path = tmp_path / "full.sqlite3"
    done = subprocess.run([sys.executable, "-c", WRITER, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    committed, _, error = done.stdout.strip().partition(" ")
    # EFBIG from the size limit is SQLite's "disk I/O error"; ENOSPC would be "database or disk is full".
    assert error.startswith("OperationalError: ") and "disk" in error, error
    check = textwrap.dedent(
        f"""
        import asyncio
        from hyperdjango.database import Database

        async def main():
            db = Database("sqlite:///{path}")
            print(await db.query_val("PRAGMA integrity_check"), await db.query_val("SELECT count(*) FROM blobs"))
            await db.close()

        asyncio.run(main())
        """
    )
    reopened = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert reopened.returncode == 0, reopened.stderr
    assert reopened.stdout.split() == ["ok", committed], (reopened.stdout, error)
