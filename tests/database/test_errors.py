"""Errors come back as typed exceptions with the SQLSTATE, and nothing is lost."""

from __future__ import annotations

import pytest

from hyperdjango.database import Database, DatabaseError, DataError, IntegrityError, OperationalError, ProgrammingError, atomic


@pytest.fixture
async def accounts(db):
    await db.execute("DROP TABLE IF EXISTS accounts")
    await db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT, CONSTRAINT accounts_email_key UNIQUE (email))")
    await db.execute("INSERT INTO accounts (id, email) VALUES (1, 'a@example.com')")
    yield db
    await db.execute("DROP TABLE accounts")


async def test_unique_violation_is_an_integrity_error_with_sqlstate_and_constraint(accounts):
    with pytest.raises(IntegrityError) as info:
        await accounts.execute("INSERT INTO accounts (id, email) VALUES ($1, $2)", 2, "a@example.com")
    err = info.value
    assert isinstance(err, DatabaseError)
    assert "INSERT INTO accounts" in err.sql
    if accounts.vendor == "postgresql":
        assert err.sqlstate == "23505"
        assert err.constraint_name == "accounts_email_key"
    else:
        assert err.sqlstate is None
        assert "accounts.email" in str(err)


async def test_syntax_error_is_a_programming_error(db):
    with pytest.raises(ProgrammingError) as info:
        await db.query("SELEC 1")
    if db.vendor == "postgresql":
        assert info.value.sqlstate == "42601"


async def test_unknown_table_is_a_programming_error(db):
    with pytest.raises(ProgrammingError):
        await db.query("SELECT * FROM there_is_no_such_table")


async def test_division_by_zero_is_a_data_error_on_postgres(db):
    if db.vendor != "postgresql":
        pytest.skip("SQLite answers NULL for 1/0")
    with pytest.raises(DataError) as info:
        await db.query("SELECT 1 / 0")
    assert info.value.sqlstate == "22012"


async def test_the_connection_stays_usable_after_a_failed_statement(accounts):
    for _ in range(3):
        with pytest.raises(IntegrityError):
            await accounts.execute("INSERT INTO accounts (id, email) VALUES (1, 'x')")
    assert await accounts.query_val("SELECT count(*) FROM accounts") == 1


async def test_a_refused_connection_is_unreachable_by_the_driver_s_own_rule(pg_server):
    # Nothing listens on port 1: the driver's connect is refused.
    database = Database(f"postgres://{pg_server.user}@127.0.0.1:1/nowhere")
    with pytest.raises(OperationalError) as info:
        await database.query("SELECT 1")
    assert info.value.connection_lost is True
    assert database.is_unreachable(info.value)
    await database.close()


async def test_a_statement_timeout_is_an_operational_error_of_a_reachable_server(pg_url):
    database = Database(pg_url)
    with pytest.raises(OperationalError) as info:
        async with atomic(database):
            await database.execute("SET LOCAL statement_timeout = 50")
            await database.query("SELECT pg_sleep(5)")
    assert info.value.sqlstate == "57014" and info.value.connection_lost is False
    assert not database.is_unreachable(info.value)
    await database.close()


def test_only_what_the_driver_raised_can_say_the_server_is_unreachable():
    # Python restated the driver's rule and took any OperationalError without a SQLSTATE for
    # a lost connection, one it made itself included; now only the driver's verdict counts.
    database = Database("postgres://postgres@127.0.0.1:5432/postgres")
    assert not database.is_unreachable(OperationalError("made in Python"))
    assert not database.is_unreachable(ConnectionRefusedError())
    lost = OperationalError("the connection to the server was closed")
    lost.connection_lost = True
    assert database.is_unreachable(lost)
    # SQLite has no server: the same error is never a lost server there.
    assert not Database("sqlite://:memory:").is_unreachable(lost)
