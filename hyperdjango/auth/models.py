"""Users, groups and permissions, in Django's shape.

``User`` is :class:`AbstractUser` made concrete. A project that needs other
fields subclasses ``AbstractUser`` (or ``AbstractBaseUser`` +
``PermissionsMixin`` for a user without a username) and names it with
:func:`hyperdjango.auth.set_user_model`, as Django's ``AUTH_USER_MODEL``.

A permission is ``"<app_label>.<codename>"``: ``hyper migrate`` creates
``add_``, ``change_``, ``delete_`` and ``view_<model>`` for every model it
migrates (``shop.change_product``).
"""

from __future__ import annotations

import datetime
import unicodedata

from ..orm import Field, ManyToMany, Model
from . import hashers


class Permission(Model):
    """``<app_label>.<codename>`` with a human name (``Can change product``)."""

    class Meta:
        table = "hyperdjango_permissions"
        unique_together = [("app_label", "codename")]
        ordering = ["app_label", "codename"]

    name: str = Field(max_length=255)
    app_label: str = Field(max_length=100)
    codename: str = Field(max_length=100)

    @property
    def perm(self) -> str:
        return f"{self.app_label}.{self.codename}"

    def __str__(self) -> str:
        return self.perm


class Group(Model):
    """A named set of permissions; a user has every permission of its groups."""

    class Meta:
        table = "hyperdjango_groups"

    name: str = Field(max_length=150, unique=True)
    permissions = ManyToMany("hyperdjango.auth.models.Permission")

    def __str__(self) -> str:
        return self.name


class AbstractBaseUser(Model):
    """A password and a last login; the rest is the project's.

    ``USERNAME_FIELD`` names the field ``authenticate(username=...)`` looks up.
    """

    class Meta:
        abstract = True

    password: str = Field(max_length=255, default="")
    last_login: datetime.datetime | None = None
    is_active: bool = True

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = []  # type: ignore[var-annotated]  # not annotated: a field otherwise

    is_anonymous = False
    is_authenticated = True
    # Class attributes a template reads as {{ user.is_authenticated }}, as in Django's.
    __template_attrs__ = ("is_anonymous", "is_authenticated")

    def get_username(self) -> str:
        return getattr(self, self.USERNAME_FIELD)

    @classmethod
    def normalize_username(cls, username: str) -> str:
        """NFKC, as Django does, so look-alike Unicode names are one name."""
        return unicodedata.normalize("NFKC", username) if isinstance(username, str) else username

    async def set_password(self, raw_password: str | None) -> None:
        """Hashes ``raw_password`` (off the event loop); call ``save()`` afterwards."""
        self.password = await hashers.make_password(raw_password)

    def set_unusable_password(self) -> None:
        self.password = hashers.UNUSABLE_PASSWORD_PREFIX + "unusable"

    def has_usable_password(self) -> bool:
        return hashers.is_password_usable(self.password)

    async def check_password(self, raw_password: str) -> bool:
        """Whether ``raw_password`` is this user's; an old-format hash is upgraded and saved."""
        matches, stale = await hashers.verify_password(raw_password, self.password)
        if matches and stale:
            await self.set_password(raw_password)
            await self.save(update_fields=["password"])
        return matches


class PermissionsMixin(AbstractBaseUser):
    """``is_superuser``, groups and direct permissions, and ``has_perm``.

    Unlike Django's mixin this one is an AbstractBaseUser already (the ORM
    inherits fields along one line of abstract models): a custom user with
    permissions is ``class MyUser(PermissionsMixin)``. Permission sets are read once per user object and cached on it, so the
    checks of one request cost one query each at most.
    """

    class Meta:
        abstract = True

    is_superuser: bool = False
    # Django's names for the other side: group.user_set, Group.objects.filter(user=...).
    groups = ManyToMany("hyperdjango.auth.models.Group", related_name="user_set", related_query_name="user")
    user_permissions = ManyToMany("hyperdjango.auth.models.Permission", related_name="user_set", related_query_name="user")

    async def get_user_permissions(self) -> set[str]:
        if not hasattr(self, "_user_perm_cache"):
            self._user_perm_cache = {p.perm for p in await self.user_permissions.all()}
        return self._user_perm_cache

    async def get_group_permissions(self) -> set[str]:
        if not hasattr(self, "_group_perm_cache"):
            perms: set[str] = set()
            for group in await self.groups.all():
                perms |= {p.perm for p in await group.permissions.all()}
            self._group_perm_cache = perms
        return self._group_perm_cache

    async def get_all_permissions(self) -> set[str]:
        return await self.get_user_permissions() | await self.get_group_permissions()

    async def has_perm(self, perm: str) -> bool:
        """Active superusers have every permission; inactive users none."""
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        return perm in await self.get_all_permissions()

    async def has_perms(self, perms: list[str]) -> bool:
        return all([await self.has_perm(p) for p in perms])

    async def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_superuser:
            return True
        return any(p.startswith(app_label + ".") for p in await self.get_all_permissions())


class AbstractUser(PermissionsMixin):
    """Django's user: username, names, email, staff and active flags, dates."""

    class Meta:
        abstract = True

    username: str = Field(max_length=150, unique=True)
    first_name: str = Field(max_length=150, default="")
    last_name: str = Field(max_length=150, default="")
    email: str = Field(max_length=254, default="")
    is_staff: bool = False
    date_joined: datetime.datetime = Field(auto_now_add=True)

    REQUIRED_FIELDS = ["email"]

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    def __str__(self) -> str:
        return self.get_username()


class User(AbstractUser):
    """The default user model (table ``hyperdjango_users``)."""

    class Meta:
        table = "hyperdjango_users"


class AnonymousUser:
    """``request.user`` when nobody is logged in: no id, no permissions."""

    id = None
    pk = None
    username = ""
    is_staff = False
    is_active = False
    is_superuser = False
    is_anonymous = True
    is_authenticated = False
    __template_attrs__ = ("id", "pk", "username", "is_staff", "is_active", "is_superuser", "is_anonymous", "is_authenticated")

    def __str__(self) -> str:
        return "AnonymousUser"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnonymousUser)

    def __hash__(self) -> int:
        return 1

    def get_username(self) -> str:
        return ""

    async def get_all_permissions(self) -> set[str]:
        return set()

    async def has_perm(self, perm: str) -> bool:
        return False

    async def has_perms(self, perms: list[str]) -> bool:
        return not perms

    async def has_module_perms(self, app_label: str) -> bool:
        return False
