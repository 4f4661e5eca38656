"""hyperdjango.signing: Django's wire format, forged/expired/rotated signatures."""

from __future__ import annotations

import time

import pytest

from hyperdjango import HyperApp
from hyperdjango.settings import ImproperlyConfigured
from hyperdjango.signing import BadSignature, SignatureExpired, Signer, TimestampSigner, dumps, loads

# Produced by Django 5.1.4 (django.core.signing) with this key.
DJANGO_KEY = "django-insecure-vector-key"
DJANGO_SIGNED = "hello:h03KiBRnuqmLY0AOsp9yvfPR910ipj1kMKff0pkyV8E"
DJANGO_SIGNED_SALT_EXTRA = "hello:eXFQ6WmiquFczOfhMNalieDr5yEQWYGj3O2mBckN79U"
DJANGO_DUMPS_SALT_VEC = "eyJ1c2VyIjoxLCJsaXN0IjpbMSwyLCJcdTAwZTkiXX0:1xZVY3:lrfD4mdVREjLRwCY4Zn02-n3to-NEDCq6scZjcolwYE"
DJANGO_DUMPS_COMPRESSED = ".eJyrVqpQslJKHCZAqRYAn1xN-w:1xZVY3:FVN-PRAKcjI75jRgQnec-t4zt7JYaC4mN8gITGWMOnY"
DJANGO_TIMESTAMPED = "v:1xZVY8:_hAmmKtkMdeWYOUPoNPEsYxHqY2RLPJXPeso11s5ryQ"


def test_signer_produces_djangos_signature():
    assert Signer(key=DJANGO_KEY).sign("hello") == DJANGO_SIGNED
    assert Signer(key=DJANGO_KEY, salt="extra").sign("hello") == DJANGO_SIGNED_SALT_EXTRA


def test_values_signed_by_django_verify():
    assert Signer(key=DJANGO_KEY).unsign(DJANGO_SIGNED) == "hello"
    assert loads(DJANGO_DUMPS_SALT_VEC, key=DJANGO_KEY, salt="vec") == {"user": 1, "list": [1, 2, "é"]}
    assert loads(DJANGO_DUMPS_COMPRESSED, key=DJANGO_KEY) == {"x": "a" * 200}
    assert TimestampSigner(key=DJANGO_KEY).unsign(DJANGO_TIMESTAMPED) == "v"


def test_a_forged_signature_is_rejected():
    forged = DJANGO_SIGNED[:-1] + ("A" if DJANGO_SIGNED[-1] != "A" else "B")
    with pytest.raises(BadSignature):
        Signer(key=DJANGO_KEY).unsign(forged)
    with pytest.raises(BadSignature):
        Signer(key=DJANGO_KEY).unsign("hellO" + DJANGO_SIGNED[5:])
    with pytest.raises(BadSignature):
        Signer(key=DJANGO_KEY).unsign("no separator")


def test_another_salt_or_key_does_not_verify():
    with pytest.raises(BadSignature):
        Signer(key=DJANGO_KEY, salt="other").unsign(DJANGO_SIGNED)
    with pytest.raises(BadSignature):
        loads(DJANGO_DUMPS_SALT_VEC, key="another key", salt="vec")


def test_an_expired_timestamp_is_rejected():
    with pytest.raises(SignatureExpired):
        TimestampSigner(key=DJANGO_KEY).unsign(DJANGO_TIMESTAMPED, max_age=1)
    signed = dumps({"a": 1}, key="k")
    assert loads(signed, key="k", max_age=60) == {"a": 1}


def test_a_fallback_key_still_verifies_after_rotation():
    old = Signer(key="old key").sign("v")
    assert Signer(key="new key", fallback_keys=["old key"]).unsign(old) == "v"
    with pytest.raises(BadSignature):
        Signer(key="new key", fallback_keys=[]).unsign(old)


def test_the_apps_keys_are_the_default():
    HyperApp(secret_key="new key", secret_key_fallbacks=["old key"])
    old = Signer(key="old key").sign("v")
    assert Signer().unsign(old) == "v"
    assert Signer().sign("v") == Signer(key="new key").sign("v")


def test_no_key_and_no_debug_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("HYPERDJANGO_SECRET_KEY", raising=False)
    HyperApp()
    with pytest.raises(ImproperlyConfigured, match="HYPERDJANGO_SECRET_KEY"):
        Signer()


def test_the_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("HYPERDJANGO_SECRET_KEY", "from env")
    HyperApp()
    assert Signer().sign("v") == Signer(key="from env").sign("v")


def test_compression_is_used_only_when_shorter():
    assert dumps({"x": "a" * 200}, key="k", compress=True).startswith(".")
    assert not dumps({"x": 1}, key="k", compress=True).startswith(".")


def test_timestamps_are_base62_seconds():
    signer = TimestampSigner(key="k")
    value, stamp, _ = signer.sign("v").split(":")
    from hyperdjango.signing import b62_decode

    assert abs(b62_decode(stamp) - time.time()) < 5


def test_unsafe_separator_is_refused():
    with pytest.raises(ValueError):
        Signer(key="k", sep="a")
