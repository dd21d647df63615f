"""Load demo data for `make run`: one login per role and a few complaints. Idempotent."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import ContactMethod, Customer, CustomerType, User
from accounts.roles import Role, user_role_add
from complaints.domain.lifecycle import Status
from complaints.models import Channel, Complaint, Department
from complaints.services.intake import complaint_log
from complaints.services.transitions import complaint_transition

DEMO_PASSWORD = "redress-demo"  # noqa: S105 - printed on purpose; refused outside DEBUG

DEMO_USERS = [
    (Role.CUSTOMER, "customer@example.com", "Casey Customer"),
    (Role.SUPPORT_AGENT, "support@example.com", "Sam Support"),
    (Role.ACCOUNTS_AGENT, "accounts@example.com", "Alex Accounts"),
    (Role.SENIOR_MANAGER, "manager@example.com", "Morgan Manager"),
    (Role.TECHNICAL_DIRECTOR, "director@example.com", "Taylor Director"),
    (Role.COMPANY_SECRETARY, "secretary@example.com", "Jordan Secretary"),
    (Role.ADMINISTRATOR, "admin@example.com", "Ada Administrator"),
]


class Command(BaseCommand):
    help = "Create one demo login per role and a few demo complaints, then print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="allow with DEBUG off (never in production)"
        )

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data has known passwords: it loads only with DEBUG on.")
        with transaction.atomic():
            users = {role: self._user(role, email, name) for role, email, name in DEMO_USERS}
            self._complaints(users)
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email, _name in DEMO_USERS:
            where = "portal: /my/" if role == Role.CUSTOMER else "desk: /admin/"
            self.stdout.write(f"  {role.label:<45} {email:<26} {where}")

    def _user(self, role, email, name):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
        if role == Role.ADMINISTRATOR and not user.is_superuser:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        user_role_add(user=user, role=role)
        return user

    def _complaints(self, users):
        customer, _ = Customer.objects.get_or_create(
            user=users[Role.CUSTOMER],
            defaults={
                "name": "Casey Customer",
                "email": "customer@example.com",
                "phone": "0117 000 0000",
                "account_reference": "ACC-1001",
                "preferred_contact_method": ContactMethod.EMAIL,
                "customer_type": CustomerType.CONSUMER,
                "email_confirmed_at": timezone.now(),
            },
        )
        if Complaint.objects.filter(customer=customer).exists():
            return
        agent = users[Role.SUPPORT_AGENT]
        now = timezone.now()
        complaint_log(
            customer=customer,
            channel=Channel.PORTAL,
            department=Department.TECHNICAL_SUPPORT,
            subject="Broadband drops every evening",
            description="My connection has dropped between 7pm and 9pm every day this week.",
            actor=None,
        )
        overdue = complaint_log(
            customer=customer,
            channel=Channel.PHONE,
            department=Department.ACCOUNTS,
            subject="Charged twice for October",
            description="My October invoice was taken twice by direct debit.",
            actor=users[Role.ACCOUNTS_AGENT],
            first_made_at=now - timedelta(days=7),
        )
        complaint_transition(
            complaint=overdue,
            to=Status.ACKNOWLEDGED,
            actor=users[Role.ACCOUNTS_AGENT],
            reason="Acknowledged on the call; promised a call back.",
        )
        responded = complaint_log(
            customer=customer,
            channel=Channel.EMAIL,
            department=Department.TECHNICAL_SUPPORT,
            subject="Email not syncing on phone",
            description="Since the server move my phone no longer receives email.",
            actor=agent,
            first_made_at=now - timedelta(days=3),
        )
        complaint_transition(
            complaint=responded,
            to=Status.INVESTIGATING,
            actor=agent,
            reason="Checking server logs.",
        )
        complaint_transition(
            complaint=responded,
            to=Status.RESPONDED,
            actor=agent,
            reason="Found a stale IMAP setting; fixed it and told the customer how to check.",
        )
