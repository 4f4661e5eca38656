"""The TechEmpower tables, as TFB defines them: ``world`` (10,000 rows of ``id``,
``randomnumber``) and ``fortune`` (TFB's 12 messages, one of them a script tag and one in
Japanese), and the fortunes page every server must draw, byte for byte."""

from __future__ import annotations

from html import escape

from hyperdjango.database import Database

WORLD_ROWS = 10_000
EXTRA_FORTUNE = "Additional fortune added at request time."
FORTUNES = (
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
)

SCHEMA = (
    "DROP TABLE IF EXISTS world",
    "CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL)",
    f"INSERT INTO world (id, randomnumber) SELECT i, 1 + floor(random() * {WORLD_ROWS})::int "
    f"FROM generate_series(1, {WORLD_ROWS}) AS i",
    "DROP TABLE IF EXISTS fortune",
    "CREATE TABLE fortune (id integer PRIMARY KEY, message varchar(2048) NOT NULL)",
)


def expected_fortunes_page() -> str:
    """TFB's fortunes page: the rows plus the one added at request time, sorted by message,
    escaped (quotes as ``&quot;``/``&#x27;``; verify.py accepts every spelling of those)."""
    rows = sorted([*enumerate(FORTUNES, 1), (0, EXTRA_FORTUNE)], key=lambda row: row[1])
    cells = "".join(f"<tr><td>{i}</td><td>{escape(m, quote=True)}</td></tr>" for i, m in rows)
    return ("<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
            f"<tr><th>id</th><th>message</th></tr>{cells}</table></body></html>")


async def create_tables(url: str) -> None:
    """(Re)creates ``world`` and ``fortune`` with TFB's rows."""
    db = Database(url)
    await db.connect()
    try:
        for statement in SCHEMA:
            await db.execute(statement)
        await db.execute_many("INSERT INTO fortune (id, message) VALUES ($1, $2)", list(enumerate(FORTUNES, 1)))
    finally:
        await db.close()


async def world_numbers(url: str) -> dict[int, int]:
    """``{id: randomnumber}`` of every row of ``world``, as stored now."""
    db = Database(url)
    await db.connect()
    try:
        return {row[0]: row[1] for row in await db.query("SELECT id, randomnumber FROM world")}
    finally:
        await db.close()


async def zero_world_numbers(url: str) -> None:
    """Sets every ``randomnumber`` to 0, a value no update writes: a row still 0 after an
    update request was not written."""
    await _execute(url, "UPDATE world SET randomnumber = 0")


async def randomise_world_numbers(url: str) -> None:
    await _execute(url, f"UPDATE world SET randomnumber = 1 + floor(random() * {WORLD_ROWS})::int")


async def _execute(url: str, sql: str) -> None:
    db = Database(url)
    await db.connect()
    try:
        await db.execute(sql)
    finally:
        await db.close()
