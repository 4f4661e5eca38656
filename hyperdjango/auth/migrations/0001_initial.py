"""hyperdjango.auth migration 0001_initial, written by hyper makemigrations.

- Create model Group (table hyperdjango_groups)
- Create model Permission (table hyperdjango_permissions)
- Create model GroupPermissionsThrough (table hyperdjango_groups_permissions)
- Create model Token (table hyperdjango_auth_tokens)
- Create model User (table hyperdjango_users)
- Create model UserGroupsThrough (table hyperdjango_users_groups)
- Create model UserUserPermissionsThrough (table hyperdjango_users_user_permissions)
"""

from hyperdjango import migrations
from hyperdjango.orm import fields


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Group",
            table="hyperdjango_groups",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("name", fields.TextField(unique=True, max_length=150)),
            ],
        ),
        migrations.CreateModel(
            name="Permission",
            table="hyperdjango_permissions",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("name", fields.TextField(max_length=255)),
                ("app_label", fields.TextField(max_length=100)),
                ("codename", fields.TextField(max_length=100)),
            ],
            unique_together=[
                ("app_label", "codename"),
            ],
        ),
        migrations.CreateModel(
            name="GroupPermissionsThrough",
            table="hyperdjango_groups_permissions",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("group_id", fields.IntegerField(foreign_key="hyperdjango.auth.Group", on_delete="CASCADE")),
                ("permission_id", fields.IntegerField(foreign_key="hyperdjango.auth.Permission", on_delete="CASCADE")),
            ],
            unique_together=[
                ("group_id", "permission_id"),
            ],
        ),
        migrations.CreateModel(
            name="Token",
            table="hyperdjango_auth_tokens",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("key_hash", fields.TextField(unique=True, max_length=64)),
                ("user_id", fields.IntegerField(index=True)),
                ("name", fields.TextField(max_length=100, default="")),
                ("created", fields.DateTimeField()),
                ("expires", fields.DateTimeField(null=True)),
                ("last_used", fields.DateTimeField(null=True)),
                ("revoked", fields.BooleanField(default=False)),
            ],
        ),
        migrations.CreateModel(
            name="User",
            table="hyperdjango_users",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("password", fields.TextField(max_length=255, default="")),
                ("last_login", fields.DateTimeField(null=True)),
                ("is_active", fields.BooleanField(default=True)),
                ("is_superuser", fields.BooleanField(default=False)),
                ("username", fields.TextField(unique=True, max_length=150)),
                ("first_name", fields.TextField(max_length=150, default="")),
                ("last_name", fields.TextField(max_length=150, default="")),
                ("email", fields.TextField(max_length=254, default="")),
                ("is_staff", fields.BooleanField(default=False)),
                ("date_joined", fields.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="UserGroupsThrough",
            table="hyperdjango_users_groups",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("user_id", fields.IntegerField(foreign_key="hyperdjango.auth.User", on_delete="CASCADE")),
                ("group_id", fields.IntegerField(foreign_key="hyperdjango.auth.Group", on_delete="CASCADE")),
            ],
            unique_together=[
                ("user_id", "group_id"),
            ],
        ),
        migrations.CreateModel(
            name="UserUserPermissionsThrough",
            table="hyperdjango_users_user_permissions",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("user_id", fields.IntegerField(foreign_key="hyperdjango.auth.User", on_delete="CASCADE")),
                ("permission_id", fields.IntegerField(foreign_key="hyperdjango.auth.Permission", on_delete="CASCADE")),
            ],
            unique_together=[
                ("user_id", "permission_id"),
            ],
        ),
    ]
