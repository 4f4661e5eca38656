"""Signed values and sessions round-trip, and any change to a signed value is caught.

Hypothesis draws JSON values, salts, keys and positions: ``signing.dumps`` /
``loads`` give the value back (compressed or not), through key rotation
(``fallback_keys``) and ``TimestampSigner``'s ``max_age``; replacing any one
character of a signed string fails with ``BadSignature``; session data comes
back unchanged through the signed-cookie and the database session stores.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from support.orm import setup_tables
from support.properties import bounded as bounded_settings
from hyperdjango import settings as app_settings
from hyperdjango import signing
from hyperdjango.database import Database, connection
from hyperdjango.orm.exceptions import ValidationError
from hyperdjango.sessions.backends.db import DatabaseStore
from hyperdjango.sessions.backends.signed_cookies import SignedCookieStore
from hyperdjango.sessions.models import Session

bounded = bounded_settings(100)

# What JSON holds: NaN is left out (it is never equal to itself); the text has no
# surrogates (JSON text is Unicode).
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
keys = st.text(min_size=1, max_size=40) | st.binary(min_size=1, max_size=40)
salts = st.text(max_size=30)


@bounded
@given(json_values, keys, salts, st.booleans())
def test_dumps_then_loads_gives_the_value_back(value, key, salt, compress):
    signed = signing.dumps(value, key=key, salt=salt, compress=compress)
    assert signing.loads(signed, key=key, salt=salt) == value
    assert signing.loads(signed, key=key, salt=salt, max_age=60) == value


@bounded
@given(json_values, keys, keys, salts)
def test_a_value_signed_with_a_retired_key_verifies_through_the_fallbacks(value, old, new, salt):
    assume(old != new)
    signed = signing.dumps(value, key=old, salt=salt, compress=True)
    assert signing.loads(signed, key=new, salt=salt, fallback_keys=[old]) == value
    with pytest.raises(signing.BadSignature):
        signing.loads(signed, key=new, salt=salt, fallback_keys=[])


@bounded
@given(json_values, keys, salts, salts)
def test_another_salt_does_not_verify(value, key, salt, other):
    assume(salt != other)
    with pytest.raises(signing.BadSignature):
        signing.loads(signing.dumps(value, key=key, salt=salt), key=key, salt=other)


@bounded
@given(json_values, keys, salts, st.booleans(), st.data())
def test_changing_any_one_character_is_a_bad_signature(value, key, salt, compress, data):
    signed = signing.dumps(value, key=key, salt=salt, compress=compress)
    at = data.draw(st.integers(0, len(signed) - 1), label="position")
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != signed[at]), label="replacement")
    tampered = signed[:at] + replacement + signed[at + 1 :]
    with pytest.raises(signing.BadSignature):
        signing.loads(tampered, key=key, salt=salt)


@bounded
@given(st.text(), keys, salts, st.data())
def test_a_timestamped_value_is_refused_once_older_than_max_age(text, key, salt, data):
    signer = signing.TimestampSigner(key=key, salt=salt)
    signed = signer.sign(text)
    assert signer.unsign(signed, max_age=60) == text
    # Backdate by rewriting the timestamp, as if signed 120 s ago (and re-signed: a valid signature).
    value, stamp_and_signature = signed.rsplit(":", 2)[0], signed.rsplit(":", 2)[1:]
    old = signing.b62_encode(signing.b62_decode(stamp_and_signature[0]) - 120)
    backdated = signing.Signer.sign(signer, f"{value}:{old}")
    with pytest.raises(signing.SignatureExpired):
        signer.unsign(backdated, max_age=data.draw(st.integers(0, 100), label="max_age"))
    assert signer.unsign(backdated, max_age=1000) == text
    assert abs(signing.b62_decode(old) - (time.time() - 120)) < 5


session_data = st.dictionaries(st.text(max_size=10), json_values, max_size=5)


def database_session_data(backend: str) -> st.SearchStrategy[dict]:
    """Session data a database stores as it is (docs/auth.md, "Sessions"). Text holding U+0000
    is refused on both backends (jsonb cannot hold it). PostgreSQL's jsonb keeps numbers as
    numerics, so a float written with an exponent (``6.3e+16``) reads back as an integer:
    there, floats stay below 10^15."""
    if backend == "postgres":
        floats = st.floats(min_value=-1e15, max_value=1e15, allow_nan=False)
        text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=10)
    else:
        floats = st.floats(allow_nan=False, allow_infinity=False)
        text = st.text(st.characters(exclude_characters="\x00"), max_size=10)
    leaves = st.none() | st.booleans() | st.integers() | floats | text
    values = st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
    )
    return st.dictionaries(text, values, max_size=5)


@bounded
@given(session_data)
def test_session_data_round_trips_through_the_signed_cookie(data):
    store = SignedCookieStore(max_age=3600)
    with signing_key("k"):
        cookie = asyncio.run(store.save(None, data, 3600))
        assert asyncio.run(store.load(cookie)) == data
        assert asyncio.run(store.load(cookie[:-1] + ("A" if cookie[-1] != "A" else "B"))) is None


class signing_key:
    """The app's secret key for a block (what the session stores sign with)."""

    def __init__(self, key: str) -> None:
        self.settings = app_settings.Settings()
        self.settings.secret_key = key

    def __enter__(self) -> None:
        self.previous = app_settings.current()
        app_settings.set_current(self.settings)

    def __exit__(self, *exc: object) -> None:
        app_settings.set_current(self.previous)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def session_db(request):
    url = request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[request.param])
    setup_tables(url, (Session,))
    loop = asyncio.new_event_loop()
    db = Database(url)
    loop.run_until_complete(db.connect())
    previous = connection._default
    connection.set_default_database(db)
    yield request.param, loop
    connection._default = previous
    loop.run_until_complete(db.close())
    loop.close()


def test_session_data_round_trips_through_the_database(session_db):
    backend, loop = session_db
    store = DatabaseStore()

    @bounded
    @given(database_session_data(backend), database_session_data(backend))
    def round_trips(first, second):
        key = loop.run_until_complete(store.save(None, first, 3600))
        assert loop.run_until_complete(store.load(key)) == first
        assert loop.run_until_complete(store.save(key, second, 3600)) == key
        assert loop.run_until_complete(store.load(key)) == second

    round_trips()


def test_database_sessions_refuse_infinities_instead_of_storing_null(session_db):
    backend, loop = session_db
    store = DatabaseStore()
    before = loop.run_until_complete(Session.objects.count())
    for data in ({"up": float("inf")}, {"l": [float("-inf"), 1.5]}, {"n": float("nan")}):
        with pytest.raises(ValidationError, match="NaN and infinite floats"):
            loop.run_until_complete(store.save(None, data, 3600))
    assert loop.run_until_complete(Session.objects.count()) == before
