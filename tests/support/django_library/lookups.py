"""The custom lookup and transform of Django's "Custom lookups" how-to, registered in the oracle."""

from django.db.models import Field, IntegerField, Lookup, Transform


@Field.register_lookup
class NotEqual(Lookup):
    lookup_name = "ne"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return "%s <> %s" % (lhs, rhs), lhs_params + rhs_params  # noqa: UP031 (Django's how-to, as users write it)


@IntegerField.register_lookup
class AbsoluteValue(Transform):
    lookup_name = "abs"
    function = "ABS"
