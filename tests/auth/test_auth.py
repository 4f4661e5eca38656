"""Users, login/logout, permissions and guards through real sockets, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime
import subprocess
import sys

import pytest

from hyperdjango import Response, Router
from hyperdjango.auth import (
    Group,
    Permission,
    User,
    authenticate,
    create_token,
    login,
    login_required,
    logout,
    permission_required,
    staff_required,
)
from hyperdjango.auth.tokens import Token
from hyperdjango.testing import TestClient

# Made by Django 5.1.4's make_password("correct horse", ...).
DJANGO_PBKDF2 = "pbkdf2_sha256$870000$fixedsalt123$ZNryz6OOUrVPJ0QQXYdUKresMcibG7spLof90vqRo6g="
DJANGO_BCRYPT = "bcrypt_sha256$$2b$12$eVgKeJCSCtlV2f44XnbciejnINWYajN8VWtlkP8nR3K1oOsmNfThW"
DJANGO_ARGON2 = "argon2$argon2id$v=19$m=102400,t=2,p=8$VW9ib1ZDT1ZXVGducmptUVFFMDJhOA$u0O4cqsC9OHceg0iuJt9tS6v+AKuquB2cdJS+//Z4Cg"


def site(make_app):
    """Login/logout views, /me, and views behind each guard."""
    app = make_app("db")

    @app.post("/login")
    async def login_view(request):
        form = await request.json()
        user = await authenticate(request, username=form["username"], password=form["password"])
        if user is None:
            return Response.json({"detail": "bad credentials"}, status=401)
        await login(request, user)
        return {"user": user.username}

    @app.post("/logout")
    async def logout_view(request):
        await logout(request)
        return {}

    @app.get("/me")
    async def me(request):
        return {"user": request.user.username, "authenticated": request.user.is_authenticated}

    @app.get("/private")
    @login_required
    async def private(request):
        return {"secret": request.user.username}

    @app.get("/products/edit")
    @permission_required("shop.change_product")
    async def edit(request):
        return {"ok": True}

    @app.get("/staff")
    @staff_required
    async def staff(request):
        return {"ok": True}

    @app.post("/seed")
    async def seed(request):
        spec = await request.json()
        user = await User.objects.filter(username=spec["username"]).first()
        if user is None:
            user = User(username=spec["username"])
        user.password = spec.get("encoded") or ""
        if "password" in spec:
            await user.set_password(spec["password"])
        user.is_staff = spec.get("is_staff", False)
        user.is_superuser = spec.get("is_superuser", False)
        user.is_active = spec.get("is_active", True)
        await user.save()
        for perm in spec.get("perms", []):
            app_label, codename = perm.split(".")
            p, _ = await Permission.objects.get_or_create(app_label=app_label, codename=codename, defaults={"name": perm})
            await user.user_permissions.add(p)
        for group_name, perms in spec.get("groups", {}).items():
            group, _ = await Group.objects.get_or_create(name=group_name)
            for perm in perms:
                app_label, codename = perm.split(".")
                p, _ = await Permission.objects.get_or_create(app_label=app_label, codename=codename, defaults={"name": perm})
                await group.permissions.add(p)
            await user.groups.add(group)
        return {"id": user.id}

    @app.get("/hash/{username}")
    async def stored_hash(request):
        return {"password": (await User.objects.get(username=request.params["username"])).password}

    @app.post("/token/{username}")
    async def token(request):
        spec = await request.json()
        user = await User.objects.get(username=request.params["username"])
        expires_in = datetime.timedelta(seconds=spec["expires_in"]) if "expires_in" in spec else None
        value, row = await create_token(user, name="t", expires_in=expires_in)
        return {"token": value, "id": row.id}

    @app.post("/revoke/{id:int}")
    async def revoke(request):
        await (await Token.objects.get(id=request.params["id"])).revoke()
        return {}

    @app.post("/password/{username}")
    async def change_password(request):
        user = await User.objects.get(username=request.params["username"])
        await user.set_password((await request.json())["password"])
        await user.save()
        return {}

    return app


def seed(c, username, **spec):
    r = c.post("/seed", json={"username": username, **spec})
    assert r.status_code == 200, r.text


def test_login_sets_request_user_for_the_next_requests(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "alice", password="s3cret pass")
        assert c.get("/me").json() == {"user": "", "authenticated": False}
        assert c.post("/login", json={"username": "alice", "password": "s3cret pass"}).json() == {"user": "alice"}
        assert c.get("/me").json() == {"user": "alice", "authenticated": True}
        assert c.get("/hash/alice").json()["password"].startswith("argon2$argon2id$")


def test_a_wrong_password_or_unknown_user_is_refused(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "bob", password="right one")
        assert c.post("/login", json={"username": "bob", "password": "wrong one"}).status_code == 401
        assert c.post("/login", json={"username": "nobody", "password": "x"}).status_code == 401
        assert c.get("/me").json()["authenticated"] is False


def test_an_inactive_user_cannot_log_in(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "carol", password="pw pw pw", is_active=False)
        assert c.post("/login", json={"username": "carol", "password": "pw pw pw"}).status_code == 401


def test_login_rotates_the_session_key_against_fixation(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "dave", password="pw for dave")
        seed(c, "mallory", password="mallory pw")
        # The attacker holds a valid session key and plants it in the victim's browser.
        c.post("/login", json={"username": "mallory", "password": "mallory pw"})
        planted = c.cookies["sessionid"]
        c.cookies.clear()
        r = c.post("/login", json={"username": "dave", "password": "pw for dave"}, headers={"cookie": f"sessionid={planted}"})
        assert r.status_code == 200
        new_key = r.cookies["sessionid"]
        assert new_key != planted
        c.cookies.clear()
        assert c.get("/me", headers={"cookie": f"sessionid={new_key}"}).json()["user"] == "dave"
        # The key the attacker knows logs nobody in any more.
        assert c.get("/me", headers={"cookie": f"sessionid={planted}"}).json()["authenticated"] is False


def test_login_of_an_anonymous_session_keeps_its_data_under_a_new_key(make_app):
    app = site(make_app)

    @app.get("/cart")
    async def cart(request):
        request.session["cart"] = [1, 2]
        return {}

    @app.get("/cart/show")
    async def show(request):
        return {"cart": request.session.get("cart")}

    with TestClient(app) as c:
        seed(c, "nina", password="pw nina")
        c.cookies.clear()
        c.get("/cart")
        before = c.cookies["sessionid"]
        c.post("/login", json={"username": "nina", "password": "pw nina"})
        assert c.cookies["sessionid"] != before
        assert c.get("/cart/show").json() == {"cart": [1, 2]}


def test_logout_ends_the_session(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "erin", password="erin's pw")
        c.post("/login", json={"username": "erin", "password": "erin's pw"})
        old = c.cookies["sessionid"]
        c.post("/logout")
        assert c.get("/me").json()["authenticated"] is False
        c.cookies.clear()
        assert c.get("/me", headers={"cookie": f"sessionid={old}"}).json()["authenticated"] is False


def test_a_password_change_ends_the_other_sessions(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "frank", password="first pw")
        c.post("/login", json={"username": "frank", "password": "first pw"})
        c.post("/password/frank", json={"password": "second pw"})
        assert c.get("/me").json()["authenticated"] is False


@pytest.mark.parametrize("encoded", [DJANGO_PBKDF2, DJANGO_BCRYPT, DJANGO_ARGON2], ids=["pbkdf2", "bcrypt_sha256", "argon2"])
def test_a_django_hash_logs_in_and_is_upgraded(make_app, encoded):
    with TestClient(site(make_app)) as c:
        seed(c, "migrated", encoded=encoded)
        assert c.post("/login", json={"username": "migrated", "password": "wrong"}).status_code == 401
        assert c.get("/hash/migrated").json()["password"] == encoded  # a failed login changes nothing
        assert c.post("/login", json={"username": "migrated", "password": "correct horse"}).status_code == 200
        upgraded = c.get("/hash/migrated").json()["password"]
        assert upgraded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
        c.post("/logout")
        assert c.post("/login", json={"username": "migrated", "password": "correct horse"}).status_code == 200


def test_login_required_redirects_browsers_and_answers_401_to_api_clients(make_app):
    with TestClient(site(make_app)) as c:
        r = c.get("/private?tab=1", headers={"accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 302
        assert r.headers["location"] == "/accounts/login/?next=%2Fprivate%3Ftab%3D1"
        r = c.get("/private", headers={"accept": "application/json"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        seed(c, "gina", password="gina pw")
        c.post("/login", json={"username": "gina", "password": "gina pw"})
        assert c.get("/private").json() == {"secret": "gina"}


def test_permissions_direct_by_group_and_superuser(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "plain", password="pw plain")
        seed(c, "direct", password="pw direct", perms=["shop.change_product"])
        seed(c, "grouped", password="pw grouped", groups={"editors": ["shop.change_product"]})
        seed(c, "root", password="pw root", is_superuser=True)
        seed(c, "other", password="pw other", perms=["shop.view_product"])
        expected = {"plain": 403, "direct": 200, "grouped": 200, "root": 200, "other": 403}
        for username, status in expected.items():
            c.cookies.clear()
            c.post("/login", json={"username": username, "password": f"pw {username}"})
            assert c.get("/products/edit").status_code == status, username
        c.cookies.clear()
        assert c.get("/products/edit", headers={"accept": "application/json"}).status_code == 401


def test_staff_required(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "helen", password="pw helen")
        seed(c, "ivan", password="pw ivan", is_staff=True)
        c.post("/login", json={"username": "helen", "password": "pw helen"})
        assert c.get("/staff").status_code == 403
        c.cookies.clear()
        c.post("/login", json={"username": "ivan", "password": "pw ivan"})
        assert c.get("/staff").status_code == 200


def test_router_guards_protect_every_route_of_the_router(make_app):
    app = site(make_app)
    admin = Router(guards=[staff_required])

    @admin.get("/dashboard")
    async def dashboard(request):
        return {"dashboard": True}

    @admin.get("/items/{id:int}")
    async def item(id: int):
        return {"id": id}

    app.include_router(admin, prefix="/admin")
    with TestClient(app) as c:
        assert c.get("/admin/dashboard", headers={"accept": "application/json"}).status_code == 401
        assert c.get("/admin/items/3", follow_redirects=False).status_code == 302
        seed(c, "judy", password="pw judy", is_staff=True)
        c.post("/login", json={"username": "judy", "password": "pw judy"})
        assert c.get("/admin/dashboard").json() == {"dashboard": True}
        assert c.get("/admin/items/3").json() == {"id": 3}


def test_bearer_tokens_authenticate_and_can_be_revoked_or_expire(make_app):
    with TestClient(site(make_app)) as c:
        seed(c, "ken", password="pw ken")
        token = c.post("/token/ken", json={}).json()
        c.cookies.clear()
        auth = {"authorization": f"Bearer {token['token']}"}
        assert c.get("/private", headers=auth).json() == {"secret": "ken"}
        assert c.get("/private", headers={"authorization": "Bearer hd_forged"}).status_code == 401
        c.post(f"/revoke/{token['id']}")
        assert c.get("/private", headers=auth).status_code == 401
        expired = c.post("/token/ken", json={"expires_in": -1}).json()
        assert c.get("/private", headers={"authorization": f"Bearer {expired['token']}"}).status_code == 401


def test_tokens_are_stored_hashed(make_app, db_url):
    with TestClient(site(make_app)) as c:
        seed(c, "leo", password="pw leo")
        token = c.post("/token/leo", json={}).json()["token"]

        async def stored():
            from hyperdjango.database import Database

            db = Database(db_url)
            await db.connect()
            try:
                return [r[0] for r in await db.query("SELECT key_hash FROM hyperdjango_auth_tokens")]
            finally:
                await db.close()

        hashes = asyncio.run(stored())
    assert token not in hashes and all(len(h) == 64 for h in hashes)


DJANGO_AUTH_NAMES = '''
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"])
django.setup()
from django.contrib.auth.models import Group, Permission
print([(m._meta.get_field("user").name, m._meta.get_field("user").get_accessor_name()) for m in (Group, Permission)])
'''


def test_groups_and_permissions_have_djangos_names_for_their_users(make_app, db_url):
    # Django's PermissionsMixin: group.user_set, Group.objects.filter(user=...), and likewise on Permission.
    django = subprocess.run([sys.executable, "-c", DJANGO_AUTH_NAMES], capture_output=True, text=True, timeout=60)
    assert django.returncode == 0, django.stderr
    names = [(m._meta.get_field("user").name, m._meta.get_field("user").get_accessor_name()) for m in (Group, Permission)]
    assert repr(names) == django.stdout.strip()
    with TestClient(site(make_app)) as c:
        seed(c, "mia", password="pw mia", groups={"proofreaders": ["shop.change_product"]})
        seed(c, "noah", password="pw noah", perms=["shop.delete_product"])

        async def related():
            from hyperdjango.database import Database

            db = Database(db_url)
            await db.connect()
            try:
                group = await Group.objects.using(db).get(user__username="mia")
                perms = [p.codename for p in await Permission.objects.using(db).filter(user__username="noah")]
                [prefetched] = await Group.objects.using(db).filter(name="proofreaders").prefetch_related("user_set")
                return (group.name, [u.username for u in await group.user_set.all()], perms,
                        [u.username for u in await prefetched.user_set.all()])
            finally:
                await db.close()

        assert asyncio.run(related()) == ("proofreaders", ["mia"], ["delete_product"], ["mia"])
