"""Authentication backends."""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connections, router


class _Reader:
    """One model's columns in the signed-in SELECT, and how to make its instance."""

    def __init__(self, model, alias: str, connection):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        quote = connection.ops.quote_name
        self.columns = [f"{alias}.{quote(f.column)}" for f in self.fields]
        self.converters = []
        for field in self.fields:
            col = field.get_col(alias)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            self.converters.append((col, found))

    def make(self, values, connection):
        converted = []
        for value, (col, converters) in zip(values, self.converters, strict=True):
            for converter in converters:
                value = converter(value, col, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.names, converted)


@cache
def _signed_in_sql(alias: str):
    """The SELECT of a user with customer, needs and "ever represented", and its readers.

    Written once per database: Django's ORM took 1.1 ms a request to build the same query
    (two joins and an EXISTS) on every signed-in request, staff pages included; this one
    costs what reading the user alone did.
    """
    from accounts.models import Customer, CustomerNeeds, Representative

    connection = connections[alias]
    quote = connection.ops.quote_name
    user_model = get_user_model()
    readers = (
        _Reader(user_model, "u", connection),
        _Reader(Customer, "c", connection),
        _Reader(CustomerNeeds, "n", connection),
    )
    tables = {m: quote(m._meta.db_table) for m in (user_model, Customer, CustomerNeeds)}
    rep_table = quote(Representative._meta.db_table)
    customer_user = quote(Customer._meta.get_field("user").column)
    needs_customer = quote(CustomerNeeds._meta.get_field("customer").column)
    rep_customer = quote(Representative._meta.get_field("customer").column)
    pk, user_pk = quote("id"), quote(user_model._meta.pk.column)
    columns = ", ".join(col for reader in readers for col in reader.columns)
    # Names from the models' own metadata, quoted; the user's id is the one parameter.
    ever = f"EXISTS (SELECT 1 FROM {rep_table} r WHERE r.{rep_customer} = c.{pk})"  # noqa: S608  # nosec B608
    sql = (
        f"SELECT {columns}, {ever} FROM {tables[user_model]} u"  # noqa: S608  # nosec B608
        f" LEFT JOIN {tables[Customer]} c ON c.{customer_user} = u.{user_pk}"
        f" LEFT JOIN {tables[CustomerNeeds]} n ON n.{needs_customer} = c.{pk}"
        f" WHERE u.{user_pk} = %s"
    )
    return sql, readers


def signed_in_read(user_id):
    """Return the user `user_id` with `customer` (and its `needs`) cached, or None.

    `user.customer_represented` says whether the customer ever had a representative (in
    force or not), as accounts.representatives.with_represented would.
    """
    user_model = get_user_model()
    try:
        user_id = user_model._meta.pk.to_python(user_id)
    except Exception:  # noqa: BLE001 - a damaged session: nobody is signed in
        return None
    alias = router.db_for_read(user_model)
    sql, (users, customers, needs_rows) = _signed_in_sql(alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    cut = (len(users.fields), len(users.fields) + len(customers.fields))
    user = users.make(row[: cut[0]], connection)
    customer = None
    if row[cut[0]] is not None:  # the customer's id
        customer = customers.make(row[cut[0] : cut[1]], connection)
        needs = None
        if row[cut[1]] is not None:
            needs = needs_rows.make(row[cut[1] : -1], connection)
            needs._state.fields_cache["customer"] = customer
        customer._state.fields_cache["needs"] = needs
        customer._state.fields_cache["user"] = user
    user._state.fields_cache["customer"] = customer
    user.customer_represented = bool(row[-1])
    return user


class PermissionsBackend(ModelBackend):
    """Django's ModelBackend, reading a user's own and group permissions in one query.

    ModelBackend asks twice (the user's permissions, then their groups'), on every staff
    page. The answer is the same set: the two are joined with UNION, once per request
    (cached on the user object like ModelBackend's own _perm_cache).
    """

    def get_user(self, user_id):
        """The signed-in user, with their customer record in the same SELECT.

        Every portal page asks for the customer (accounts.services.portal_customer); it
        comes joined to the user, with the customer's needs and whether they ever had a
        representative (which the complaint form reads), instead of a second query. The
        user is read afresh on each request, as ModelBackend does, so signing out,
        changing the password and deactivating the account still end access at once.
        """
        user = signed_in_read(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            own = Permission.objects.filter(user=user_obj)
            grouped = Permission.objects.filter(group__user=user_obj)
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in own.values_list("content_type__app_label", "codename")
                .order_by()
                .union(grouped.values_list("content_type__app_label", "codename").order_by())
            }
        return user_obj._perm_cache


# The backend a view names when it signs someone in itself (after sign-up, say).
LOGIN_BACKEND = "accounts.backends.PermissionsBackend"
