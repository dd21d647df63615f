"""Roles are groups with exactly their permissions, created by the migrations."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission

from accounts.roles import (
    FORBIDDEN_PERMISSIONS,
    GROUP_NAMES,
    ROLE_DEPARTMENT,
    ROLE_PERMISSIONS,
    STAFF_ROLES,
    Role,
    role_permissions,
    roles_sync,
    user_department,
    user_has_role,
    user_role_add,
    user_roles,
)
from complaints.models import Department
from tests.accounts.factories import CustomerFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def group_permissions() -> dict[str, set[str]]:
    """Return every group's permissions as "app_label.codename", read from the database."""
    return {
        group.name: {
            f"{perm.content_type.app_label}.{perm.codename}" for perm in group.permissions.all()
        }
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


@pytest.mark.parametrize("role", list(Role))
def test_migrations_create_each_role_group_with_exactly_its_permissions(role):
    assert group_permissions()[GROUP_NAMES[role]] == role_permissions(role)


def test_group_names_are_the_role_labels():
    assert {Group.objects.get(name=role.label).name for role in Role} == set(GROUP_NAMES.values())


def test_no_role_may_delete_complaints_or_their_history():
    granted = set().union(*group_permissions().values())

    assert "complaints.delete_complaint" not in granted
    assert "complaints.delete_caseevent" not in granted
    assert not granted & FORBIDDEN_PERMISSIONS


def test_customer_role_has_no_permissions():
    assert role_permissions(Role.CUSTOMER) == frozenset()


SAR_HANDLER = {"accounts.change_subjectaccessrequest", "accounts.view_subjectaccessalert"}


def test_agents_see_one_department_managers_all_and_review_formal_cases():
    agent = role_permissions(Role.SUPPORT_AGENT)
    for role in (Role.SENIOR_MANAGER, Role.TECHNICAL_DIRECTOR):
        manager = role_permissions(role)
        assert agent < manager
        assert manager - agent == {
            "complaints.view_all_departments",
            "complaints.review_formal",
            "complaints.approve_remedy",  # issue 16: payments name an approving manager
            *SAR_HANDLER,
            # Issue 16 item 2: managers read the recurring-problem alerts.
            "complaints.view_recurringproblemalert",
        }
    # COP-19, COP-15: the Company Secretary has a queue of its own and sees formal cases;
    # as the data-protection lead, answers subject access requests (issue 15 item 5).
    assert role_permissions(Role.COMPANY_SECRETARY) - agent == {
        "complaints.review_formal",
        "complaints.approve_remedy",
        *SAR_HANDLER,
    }
    assert role_permissions(Role.ACCOUNTS_AGENT) == agent
    assert "complaints.view_all_departments" not in agent


def test_administrator_runs_the_apps_and_manages_users_and_groups():
    admin = role_permissions(Role.ADMINISTRATOR)

    assert {"auth.view_group", "auth.add_group", "auth.change_group"} <= admin
    assert {"accounts.view_user", "accounts.add_user", "accounts.change_user"} <= admin
    assert {"complaints.review_formal", "complaints.change_complaint"} <= admin
    assert "auth.delete_group" not in admin


def test_every_named_permission_exists():
    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    for role in Role:
        assert role_permissions(role) <= existing, role


def test_roles_sync_is_idempotent():
    before = group_permissions()
    permission_count = Permission.objects.count()

    roles_sync()
    roles_sync()

    assert group_permissions() == before
    assert Permission.objects.count() == permission_count
    assert Group.objects.filter(name__in=GROUP_NAMES.values()).count() == len(Role)


def test_roles_sync_restores_a_changed_group():
    group = Group.objects.get(name=GROUP_NAMES[Role.SUPPORT_AGENT])
    group.permissions.remove(Permission.objects.get(codename="view_complaint"))
    group.permissions.add(Permission.objects.get(codename="delete_complaint"))
    Group.objects.get(name=GROUP_NAMES[Role.ACCOUNTS_AGENT]).delete()

    roles_sync()

    permissions = group_permissions()
    assert permissions[GROUP_NAMES[Role.SUPPORT_AGENT]] == role_permissions(Role.SUPPORT_AGENT)
    assert permissions[GROUP_NAMES[Role.ACCOUNTS_AGENT]] == role_permissions(Role.ACCOUNTS_AGENT)


def test_roles_sync_refuses_an_unknown_permission(monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.CUSTOMER, ("complaints.fly_to_the_moon",))

    with pytest.raises(LookupError, match="fly_to_the_moon"):
        roles_sync()


def test_staff_roles_are_all_but_customer():
    assert STAFF_ROLES == set(Role) - {Role.CUSTOMER}


def test_role_departments_are_complaint_departments():
    assert set(ROLE_DEPARTMENT.values()) <= set(Department.values)


@pytest.mark.parametrize(
    "role, department",
    [
        (Role.SUPPORT_AGENT, "technical_support"),
        (Role.ACCOUNTS_AGENT, "accounts"),
        (Role.COMPANY_SECRETARY, "company_secretary"),
        (Role.SENIOR_MANAGER, None),
        (Role.TECHNICAL_DIRECTOR, None),
        (Role.ADMINISTRATOR, None),
    ],
)
def test_user_department(role, department):
    assert user_department(StaffUserFactory(role=role)) == department


def test_user_department_of_customer_and_anonymous():
    assert user_department(CustomerFactory(with_user=True).user) is None
    assert user_department(AnonymousUser()) is None
    assert user_roles(AnonymousUser()) == set()


def test_user_role_add_makes_staff_for_a_staff_role():
    user = UserFactory()

    user_role_add(user=user, role=Role.ACCOUNTS_AGENT)

    user.refresh_from_db()
    assert user.is_staff
    assert user_roles(user) == {Role.ACCOUNTS_AGENT}
    assert user_has_role(user, Role.ACCOUNTS_AGENT)
    assert not user_has_role(user, Role.SUPPORT_AGENT)
    assert user.has_perm("complaints.add_complaint")
    assert not user.has_perm("complaints.view_all_departments")


def test_user_role_add_for_customer_is_not_staff():
    user = UserFactory()

    user_role_add(user=user, role=Role.CUSTOMER)

    user.refresh_from_db()
    assert not user.is_staff
    assert user_roles(user) == {Role.CUSTOMER}
    assert not user.has_perm("complaints.view_complaint")


def test_user_role_add_is_idempotent_and_roles_accumulate():
    user = StaffUserFactory(role=Role.SENIOR_MANAGER)

    user_role_add(user=user, role=Role.SENIOR_MANAGER)
    user_role_add(user=user, role=Role.TECHNICAL_DIRECTOR)

    assert user_roles(user) == {Role.SENIOR_MANAGER, Role.TECHNICAL_DIRECTOR}
    assert user.has_perm("complaints.review_formal")
