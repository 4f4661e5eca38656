"""Reading a schema back from the database's catalog, for the migration tests."""

from __future__ import annotations


async def columns(db, table: str) -> dict[str, bool]:
    """``{column: nullable}`` of a table, read from the database's catalog."""
    if db.vendor == "sqlite":
        rows = await db.query(f"SELECT name, \"notnull\" OR pk AS \"notnull\" FROM pragma_table_info('{table}')")
        return {r["name"]: not r["notnull"] for r in rows}
    rows = await db.query("SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = $1", table)
    return {r["column_name"]: r["is_nullable"] == "YES" for r in rows}


async def tables(db) -> set[str]:
    if db.vendor == "sqlite":
        rows = await db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r["name"] for r in rows}
    rows = await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    return {r["table_name"] for r in rows}


async def indexes(db, table: str) -> set[str]:
    if db.vendor == "sqlite":
        rows = await db.query(f"SELECT name FROM pragma_index_list('{table}') WHERE origin = 'c'")
        return {r["name"] for r in rows}
    rows = await db.query("SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%key' AND indexname NOT LIKE '%uniq'", table)
    return {r["indexname"] for r in rows}
