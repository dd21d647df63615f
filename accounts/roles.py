"""The seven roles of the Code, each a Group holding exactly its permissions."""

from __future__ import annotations

import logging

from django.apps import apps as global_apps
from django.contrib.auth import get_permission_codename
from django.db import DEFAULT_DB_ALIAS, models, transaction

logger = logging.getLogger(__name__)


class Role(models.TextChoices):
    """Who someone is to the complaints process (see the roles in the Code)."""

    # Labels are plain strings, not translated: they are the Group names stored in the
    # database and must not change with the active language.
    CUSTOMER = "customer", "Customer"
    SUPPORT_AGENT = "support_agent", "Support agent (technical support team)"
    ACCOUNTS_AGENT = "accounts_agent", "Accounts agent (accounts department)"
    SENIOR_MANAGER = "senior_manager", "Senior manager"
    TECHNICAL_DIRECTOR = "technical_director", "Technical director"
    COMPANY_SECRETARY = "company_secretary", "Company secretary"
    ADMINISTRATOR = "administrator", "Administrator"


GROUP_NAMES: dict[Role, str] = {role: role.label for role in Role}
ROLE_BY_GROUP_NAME: dict[str, Role] = {name: role for role, name in GROUP_NAMES.items()}

STAFF_ROLES: frozenset[Role] = frozenset(role for role in Role if role != Role.CUSTOMER)

# Values of complaints.models.Department; a role not listed here is not tied to one
# department's queue (managers see every department, administrators run the system).
ROLE_DEPARTMENT: dict[Role, str] = {
    Role.SUPPORT_AGENT: "technical_support",
    Role.ACCOUNTS_AGENT: "accounts",
    # COP-19: complaints about the Code go to the Company Secretary.
    Role.COMPANY_SECRETARY: "company_secretary",
}

# Never granted to anyone: complaints and their history are never hard-deleted, and
# customers own complaints.
FORBIDDEN_PERMISSIONS: frozenset[str] = frozenset(
    {
        "complaints.delete_complaint",
        "complaints.delete_caseevent",
        "complaints.delete_correspondence",
        "complaints.delete_casenote",
        "complaints.delete_thirdpartycorrespondence",
        "complaints.delete_attachment",
        "accounts.delete_customer",
        "accounts.delete_subjectaccessrequest",
        "accounts.delete_subjectaccessevent",
        # The record that needs were recorded and withdrawn outlives them (issue 15).
        "accounts.change_customerneedsevent",
        "accounts.delete_customerneedsevent",
        # Authority is withdrawn (and kept), never deleted (issue 15 item 4).
        "accounts.delete_representative",
        # Issue 16: a remedy is voided, never deleted; a satisfaction answer is the
        # customer's own words, written only by them.
        "complaints.delete_remedy",
        "complaints.add_satisfactionresponse",
        "complaints.change_satisfactionresponse",
        "complaints.delete_satisfactionresponse",
    }
)

# "app_label.*" stands for every permission of every model of that app, less the
# forbidden ones; it is expanded by role_permissions().
ALL_OF_APP = "*"

_AGENT_PERMISSIONS: tuple[str, ...] = (
    "complaints.view_complaint",
    "complaints.add_complaint",
    "complaints.change_complaint",
    "complaints.view_caseevent",
    "complaints.view_correspondence",
    "complaints.add_correspondence",
    "complaints.view_casenote",
    "complaints.add_casenote",
    "complaints.view_thirdpartycorrespondence",
    "complaints.add_thirdpartycorrespondence",
    "complaints.view_attachment",
    "complaints.add_attachment",
    # The deadline jobs' alerts, the notices sent and the to-post / to-call queues.
    "complaints.view_staffalert",
    "complaints.view_notice",
    "complaints.view_outboxmessage",
    "complaints.view_inboundemail",
    # Reviewing quarantined mail: release it onto the case or reject it.
    "complaints.change_inboundemail",
    "accounts.view_customer",
    "accounts.add_customer",
    "accounts.change_customer",
    # Subject access requests (UK GDPR art. 15): any agent logs one from a letter or an
    # email and sees the open ones; managers and the Company Secretary answer them.
    "accounts.view_subjectaccessrequest",
    "accounts.add_subjectaccessrequest",
    "accounts.view_subjectaccessevent",
    # Issue 15: record, correct, review and withdraw a customer's needs (with consent).
    "accounts.view_customerneeds",
    "accounts.add_customerneeds",
    "accounts.change_customerneeds",
    "accounts.delete_customerneeds",
    "accounts.view_customerneedsevent",
    # Issue 15 item 4: record a representative and the authority seen; withdraw it.
    "accounts.view_representative",
    "accounts.add_representative",
    "accounts.change_representative",
    # Issue 16 item 3: record remedies given (and void a mistaken one); a remedy that
    # costs money names the manager who approved it.
    "complaints.view_remedy",
    "complaints.add_remedy",
    "complaints.change_remedy",
    # Issue 16 item 4: the customers' satisfaction answers on their cases.
    "complaints.view_satisfactionresponse",
)

# Who answers subject access requests: extends, prepares and sends the response, refuses.
_SAR_HANDLER_PERMISSIONS: tuple[str, ...] = (
    "accounts.change_subjectaccessrequest",
    "accounts.view_subjectaccessalert",
)

_MANAGER_PERMISSIONS: tuple[str, ...] = (
    *_AGENT_PERMISSIONS,
    "complaints.view_all_departments",
    "complaints.review_formal",
    "complaints.approve_remedy",
    *_SAR_HANDLER_PERMISSIONS,
    # Issue 16 item 2: the recurring-problem alerts, raised only by their job.
    "complaints.view_recurringproblemalert",
)

ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    # Portal users are not staff and act only through the portal's own checks.
    Role.CUSTOMER: (),
    Role.SUPPORT_AGENT: _AGENT_PERMISSIONS,
    Role.ACCOUNTS_AGENT: _AGENT_PERMISSIONS,
    # COP-11, COP-15: senior managers take over and review formal complaints.
    Role.SENIOR_MANAGER: _MANAGER_PERMISSIONS,
    Role.TECHNICAL_DIRECTOR: _MANAGER_PERMISSIONS,
    # COP-19: the Company Secretary owns complaints about the Code, and may be asked for
    # at the formal stage (COP-15), so sees formal cases but not every queue.
    # The Company Secretary is also the data-protection lead: answers subject access requests.
    Role.COMPANY_SECRETARY: (
        *_AGENT_PERMISSIONS,
        "complaints.review_formal",
        "complaints.approve_remedy",
        *_SAR_HANDLER_PERMISSIONS,
    ),
    Role.ADMINISTRATOR: (
        f"accounts.{ALL_OF_APP}",
        f"complaints.{ALL_OF_APP}",
        f"escalation.{ALL_OF_APP}",
        "auth.view_group",
        "auth.add_group",
        "auth.change_group",
    ),
}


def _app_permissions(app_label: str, *, apps) -> set[str]:
    """Return every permission of the models of the given app, as "app_label.codename"."""
    try:
        app_config = apps.get_app_config(app_label)
    except LookupError:
        return set()
    names = set()
    for model in app_config.get_models():
        opts = model._meta
        for action in opts.default_permissions:
            names.add(f"{app_label}.{get_permission_codename(action, opts)}")
        for codename, _name in opts.permissions:
            names.add(f"{app_label}.{codename}")
    return names


def role_permissions(role: Role, *, apps=None) -> frozenset[str]:
    """Return the role's permissions as "app_label.codename", with app wildcards expanded."""
    apps = apps or global_apps
    names: set[str] = set()
    for name in ROLE_PERMISSIONS[Role(role)]:
        app_label, codename = name.split(".", 1)
        if codename == ALL_OF_APP:
            names |= _app_permissions(app_label, apps=apps)
        else:
            names.add(name)
    return frozenset(names - FORBIDDEN_PERMISSIONS)


def roles_sync(*, apps=None, using: str = DEFAULT_DB_ALIAS, missing_ok: bool = False) -> None:
    """Create or update one Group per role, holding exactly the role's permissions.

    Idempotent. Pass a migration's historical `apps`; there, `missing_ok=True` skips
    permissions of models that do not exist yet at that point in the migration graph.
    """
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    # Permissions are normally created by post_migrate, i.e. after every migration has
    # run; a data migration needs them now. The global app configs are passed because
    # create_permissions skips configs without a models module (historical ones).
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    pk_by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    with transaction.atomic(using=using):
        for role in Role:
            wanted = role_permissions(role, apps=apps)
            missing = wanted - pk_by_name.keys()
            if missing and not missing_ok:
                raise LookupError(
                    f"Role {role.value!r} names unknown permissions: {sorted(missing)}"
                )
            if missing:
                logger.debug("Role %s: skipping permissions not yet created: %s", role, missing)
            group, _created = Group.objects.using(using).get_or_create(name=GROUP_NAMES[role])
            group.permissions.set([pk_by_name[name] for name in wanted - missing])


def roles_sync_on_post_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Keep the role groups in step with ROLE_PERMISSIONS after every migrate or flush."""
    # Connect once (e.g. with sender=the accounts AppConfig) in AppConfig.ready().
    roles_sync(using=using)


def user_roles(user) -> set[Role]:
    """Return the roles the user holds (through their groups)."""
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        return set()
    names = user.groups.values_list("name", flat=True)
    return {ROLE_BY_GROUP_NAME[name] for name in names if name in ROLE_BY_GROUP_NAME}


def user_has_role(user, role: Role) -> bool:
    """Return whether the user holds the given role."""
    return Role(role) in user_roles(user)


def user_department(user) -> str | None:
    """Return the department whose queue the user works, or None if not tied to one."""
    roles = user_roles(user)
    for role in Role:  # declaration order decides if someone holds two.
        if role in roles and role in ROLE_DEPARTMENT:
            return ROLE_DEPARTMENT[role]
    return None


@transaction.atomic
def user_role_add(*, user, role: Role) -> None:
    """Give the user a role; a staff role also lets them log in to the staff desk."""
    from django.contrib.auth.models import Group

    role = Role(role)
    try:
        group = Group.objects.get(name=GROUP_NAMES[role])
    except Group.DoesNotExist:
        # Only after the table was flushed (e.g. by a transactional test); migrations
        # create the groups.
        roles_sync()
        group = Group.objects.get(name=GROUP_NAMES[role])
    user.groups.add(group)
    if role in STAFF_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
