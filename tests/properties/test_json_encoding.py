"""Every type our JSON encoder supports round-trips (``hyperdjango.encoding`` and
``Response.json``), and where Django's ``DjangoJSONEncoder`` answers too, the
decoded documents agree.

The documented differences from Django (docs/http.md, "JSON"): datetimes and
times keep their microseconds (Django cuts them to milliseconds) and UTC is
written ``+00:00``; NaN and infinite floats become ``null`` (Django writes
``NaN``, which is not JSON).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import uuid
from decimal import Decimal

import msgspec
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.dateparse import parse_duration
from hypothesis import given
from hypothesis import strategies as st

from support.properties import bounded as bounded_settings
from hyperdjango import Response, encoding

bounded = bounded_settings(150)


def through_response(value):
    """The value as a client reads a ``Response.json`` body."""
    response = Response.json(value)
    assert response.headers["content-type"] == "application/json"
    assert response.body == encoding.dumps(value)
    return json.loads(response.body)


def django(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


# Every code point, lone surrogates included (Python strings may hold them: `"\udc80"`).
any_text = st.text(st.characters(codec=None, categories=None))
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)


@bounded
@given(plain_values)
def test_json_values_round_trip_and_match_django(value):
    assert through_response(value) == value
    assert through_response(value) == django(value)
    if not has_lone_surrogates(value):  # our decoder refuses them (docs/http.md)
        assert encoding.loads(encoding.dumps(value)) == value


def has_lone_surrogates(value) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in json.dumps(value, ensure_ascii=False))


@bounded
@given(st.integers(min_value=-(10**60), max_value=10**60))
def test_integers_of_any_size_are_exact_numbers(n):
    body = encoding.dumps({"n": n})
    assert body == b'{"n":%d}' % n
    assert json.loads(body) == {"n": n} == django({"n": n})


@bounded
@given(st.text(st.characters(categories=["Cs"]), min_size=1, max_size=4), st.text(max_size=4))
def test_lone_surrogates_are_escaped_as_python_and_django_do(surrogates, text):
    value = {"s": text + surrogates + text, "l": [surrogates]}
    body = encoding.dumps(value)
    body.decode("utf-8")  # the body is valid UTF-8
    # JSON readers join an escaped high + low surrogate into one character, as Python's do.
    assert json.loads(body) == django(value) == json.loads(json.dumps(value))
    if has_lone_surrogates(json.loads(body)):  # our decoder refuses them (docs/http.md)
        with pytest.raises(ValueError):
            encoding.loads(body)


@bounded
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_round_trip_exactly(f):
    (back,) = through_response([f])
    assert back == f and math.copysign(1, back) == math.copysign(1, f)


def test_nan_and_infinities_become_null():
    assert encoding.dumps([math.nan, math.inf, -math.inf]) == b"[null,null,null]"


@bounded
@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_decimals_are_strings_with_every_digit(d):
    (text,) = through_response([d])
    assert text == str(d) == django([d])[0]
    assert str(Decimal(text)) == str(d)


@bounded
@given(st.datetimes(timezones=st.none() | st.timezones()))
def test_datetimes_round_trip_with_microseconds(dt):
    (text,) = through_response([dt])
    back = datetime.datetime.fromisoformat(text)
    # Wall time and offset, not ==: a time in a DST gap never equals one of another zone.
    assert (back.replace(tzinfo=None), back.utcoffset()) == (dt.replace(tzinfo=None), dt.utcoffset())
    # Django's encoder keeps milliseconds: the same instant, truncated.
    theirs = datetime.datetime.fromisoformat(django([dt])[0])
    assert (theirs.replace(tzinfo=None), theirs.utcoffset()) == (
        dt.replace(tzinfo=None, microsecond=dt.microsecond // 1000 * 1000), dt.utcoffset())


@bounded
@given(st.dates(), st.times())
def test_dates_and_naive_times_round_trip(d, t):
    day, moment = through_response([d, t])
    assert datetime.date.fromisoformat(day) == d and datetime.time.fromisoformat(moment) == t
    assert day == django([d])[0]


def test_an_aware_time_is_refused_as_django_refuses_it():
    aware = datetime.time(12, 0, tzinfo=datetime.UTC)
    with pytest.raises(TypeError):
        encoding.dumps([aware])
    with pytest.raises(ValueError):
        django([aware])


@bounded
@given(st.timedeltas())
def test_timedeltas_are_iso_8601_durations_as_in_django(delta):
    (text,) = through_response([delta])
    assert text == django([delta])[0]
    assert parse_duration(text) == delta


@bounded
@given(st.uuids())
def test_uuids_are_hyphenated_strings(u):
    (text,) = through_response([u])
    assert uuid.UUID(text) == u and text == django([u])[0]


@bounded
@given(st.binary(max_size=20), st.text(max_size=20))
def test_bytes_are_utf8_text(raw, text):
    out = through_response([raw, text.encode()])
    assert out == [raw.decode("utf-8", "replace"), text]


@dataclasses.dataclass
class Point:
    x: int
    label: str
    at: datetime.date
    price: Decimal
    tags: list[str]


class Line(msgspec.Struct):
    start: Point
    end: Point
    width: Decimal
    id: uuid.UUID


points = st.builds(Point, st.integers(), st.text(max_size=8), st.dates(), st.decimals(allow_nan=False, allow_infinity=False),
                   st.lists(st.text(max_size=4), max_size=3))


def point_json(p: Point) -> dict:
    return {"x": p.x, "label": p.label, "at": p.at.isoformat(), "price": str(p.price), "tags": p.tags}


@bounded
@given(points, points, st.decimals(allow_nan=False, allow_infinity=False), st.uuids())
def test_dataclasses_and_structs_become_objects(a, b, width, u):
    line = Line(a, b, width, u)
    assert through_response({"p": a, "line": line, "set": {1}, "tuple": (a,)}) == {
        "p": point_json(a),
        "line": {"start": point_json(a), "end": point_json(b), "width": str(width), "id": str(u)},
        "set": [1],
        "tuple": [point_json(a)],
    }


class Tagged:
    """Anything with ``to_dict()``, as model instances have."""

    def __init__(self, data: dict) -> None:
        self.data = data

    def to_dict(self) -> dict:
        return self.data


@bounded
@given(plain_values)
def test_objects_with_to_dict_are_encoded_as_their_dict(value):
    assert through_response([Tagged({"v": value})]) == [{"v": value}]


def test_model_instances_are_encoded_with_their_fields():
    from hyperdjango import Field, Model

    class Gadget(Model):
        class Meta:
            table = "hd_prop_gadget"

        name: str = Field(max_length=20)
        price: Decimal = Field(max_digits=6, decimal_places=2)
        made: datetime.date | None = None

    gadget = Gadget(id=3, name="Zoë", price=Decimal("9.50"), made=datetime.date(2024, 2, 29))
    assert through_response({"g": gadget}) == {"g": {"id": 3, "name": "Zoë", "price": "9.50", "made": "2024-02-29"}}


def test_an_unsupported_type_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="complex"):
        encoding.dumps({"z": 1j})
