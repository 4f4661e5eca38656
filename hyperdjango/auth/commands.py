"""``hyper createsuperuser``, ``hyper changepassword``, ``hyper createtoken`` and
``hyper clearsessions``. Each takes the module of the app, as ``hyper migrate`` does,
for its database (``--database`` first, then the app's, then ``$HYPERDJANGO_DATABASE_URL``)."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import getpass
import os
import sys
from typing import Any

from ..importing import import_target


class CommandError(Exception):
    """Ends the command with this message (raised inside the async work, where
    a SystemExit would escape asyncio's handling)."""


def _database(args: argparse.Namespace) -> Any:
    from ..migrations.commands import _database as database_for

    _, found = import_target(args.target)
    return database_for(args, found)


def _run(args: argparse.Namespace, work: Any) -> Any:
    """Runs ``work(db)`` with the command's database as the default one."""
    from ..database import connection
    from ..database.errors import DatabaseError

    db = _database(args)

    async def run() -> Any:
        previous = connection._default
        connection.set_default_database(db)
        await db.connect()
        try:
            return await work(db)
        finally:
            connection._default = previous
            await db.close()

    try:
        return asyncio.run(run())
    except CommandError as e:
        raise SystemExit(f"hyper {args.command}: {e}") from None
    except DatabaseError as e:
        raise SystemExit(f"hyper {args.command}: {e} (did you run hyper migrate?)") from None


async def _validated(password: str, user: Any) -> str:
    from .validators import ValidationError, validate_password

    try:
        validate_password(password, user)
    except ValidationError as e:
        raise CommandError(" ".join(e.messages)) from None
    return password


def _ask_password(user: Any) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("the two passwords differ")
    return first


async def _user(username: str) -> Any:
    from . import get_user_model

    user = await get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user {username!r}")
    return user


def _createsuperuser(args: argparse.Namespace) -> None:
    from . import get_user_model

    env = os.environ
    username = args.username or env.get("HYPERDJANGO_SUPERUSER_USERNAME")
    email = args.email or env.get("HYPERDJANGO_SUPERUSER_EMAIL", "")
    if args.noinput:
        password = env.get("HYPERDJANGO_SUPERUSER_PASSWORD")
        if not username or not password:
            raise SystemExit("hyper createsuperuser --noinput: give --username (or HYPERDJANGO_SUPERUSER_USERNAME) "
                             "and HYPERDJANGO_SUPERUSER_PASSWORD")
    else:
        username = username or input("Username: ").strip()
        email = email or input("Email address: ").strip()
        password = None

    async def work(db: Any) -> None:
        model = get_user_model()
        if await model.objects.filter(username=username).exists():
            raise CommandError(f"the username {username!r} is taken")
        user = model(username=username, email=email, is_staff=True, is_superuser=True)
        await user.set_password(await _validated(password or _ask_password(user), user))
        await user.save()
        print(f"Superuser {username!r} created.")

    _run(args, work)


def _changepassword(args: argparse.Namespace) -> None:
    async def work(db: Any) -> None:
        user = await _user(args.username)
        await user.set_password(await _validated(_ask_password(user), user))
        await user.save(update_fields=["password"])
        print(f"Password changed for {args.username!r}.")

    _run(args, work)


def _createtoken(args: argparse.Namespace) -> None:
    from .tokens import create_token

    async def work(db: Any) -> None:
        user = await _user(args.username)
        expires = datetime.timedelta(days=args.days) if args.days else None
        token, _ = await create_token(user, name=args.name, expires_in=expires)
        print(token)

    _run(args, work)


def _clearsessions(args: argparse.Namespace) -> None:
    from ..sessions.backends.db import DatabaseStore

    async def work(db: Any) -> None:
        print(f"Deleted {await DatabaseStore.clear_expired()} expired sessions.")

    _run(args, work)


def add_commands(commands: Any) -> None:
    """Adds the auth and session commands to ``hyper``'s subparsers."""
    help_db = "database URL (default: the app's, else $HYPERDJANGO_DATABASE_URL)"

    create = commands.add_parser("createsuperuser", help="create a user with every permission")
    create.add_argument("target", help="the module of the app (module or module:app)")
    create.add_argument("--username")
    create.add_argument("--email")
    create.add_argument("--noinput", action="store_true",
                        help="no questions: the password comes from HYPERDJANGO_SUPERUSER_PASSWORD")
    create.add_argument("--database", help=help_db)
    create.set_defaults(func=_createsuperuser)

    change = commands.add_parser("changepassword", help="set a user's password (asked twice, or read from stdin)")
    change.add_argument("target")
    change.add_argument("username")
    change.add_argument("--database", help=help_db)
    change.set_defaults(func=_changepassword)

    token = commands.add_parser("createtoken", help="print a new API token for a user (shown once, stored hashed)")
    token.add_argument("target")
    token.add_argument("username")
    token.add_argument("--name", default="cli", help="what the token is for")
    token.add_argument("--days", type=int, default=0, help="expire after this many days (default: never)")
    token.add_argument("--database", help=help_db)
    token.set_defaults(func=_createtoken)

    clear = commands.add_parser("clearsessions", help="delete expired database sessions")
    clear.add_argument("target")
    clear.add_argument("--database", help=help_db)
    clear.set_defaults(func=_clearsessions)
