"""Create integrations, issue and revoke their API keys, and list them (issue 14)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.integrations import api_key_issue, api_key_revoke, integration_create
from accounts.models import ApiKey, ApiScope, Integration
from accounts.roles import STAFF_ROLES


class Command(BaseCommand):
    help = (
        "API keys for integrations. `create NAME --role ROLE --scope read --scope write "
        "[--expires YYYY-MM-DD]` makes the integration if need be and prints a new key once; "
        "`revoke PREFIX` stops a key at once; `list` shows every key without its secret."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a key (and create the integration)")
        create.add_argument("name", help="the integration's name, e.g. 'Salesforce CRM'")
        create.add_argument(
            "--role",
            choices=sorted(role.value for role in STAFF_ROLES),
            help="the staff role it acts as (needed when the integration is new)",
        )
        create.add_argument(
            "--scope",
            action="append",
            choices=[scope.value for scope in ApiScope],
            default=[],
            help="read, write or formal; repeat for several",
        )
        create.add_argument("--expires", help="last day the key works (YYYY-MM-DD)")
        create.add_argument("--label", default="", help="a note, e.g. where the key is used")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix", help="the 12 characters after rdk_")
        sub.add_parser("list", help="every key, without secrets")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages), returncode=2) from exc

    def do_create(self, *, name, role, scope, expires, label, **options):
        expires_at = None
        if expires:
            try:
                day = datetime.strptime(expires, "%Y-%m-%d").date()
            except ValueError:
                message = f"--expires {expires!r} is not a date (YYYY-MM-DD)."
                raise ValidationError(message) from None
            # The key works to the end of that day, in the office's time zone.
            expires_at = timezone.make_aware(datetime.combine(day, datetime.max.time()))
        integration = Integration.objects.filter(name__iexact=name.strip()).first()
        if integration is None:
            if not role:
                raise ValidationError(f"No integration called {name!r}: give --role to create it.")
            integration = integration_create(name=name, role=role)
            self.stdout.write(f"Created integration {integration.name} acting as {role}.")
        elif role and role != integration.role:
            raise ValidationError(
                f"{integration.name} acts as {integration.role}; a key cannot change its role."
            )
        issued = api_key_issue(
            integration=integration, scopes=scope, expires_at=expires_at, label=label
        )
        self.stdout.write(
            f"Key for {integration.name} ({', '.join(issued.key.scopes)}), shown once:\n"
            f"{issued.plaintext}"
        )

    def do_revoke(self, *, prefix, **options):
        key = ApiKey.objects.filter(prefix=prefix.removeprefix("rdk_")[:12]).first()
        if key is None:
            raise ValidationError(f"No key with prefix {prefix!r}.")
        if api_key_revoke(key=key):
            self.stdout.write(f"Revoked {key}.")
        else:
            self.stdout.write(f"{key} was already revoked on {key.revoked_at:%Y-%m-%d %H:%M}.")

    def do_list(self, **options):
        now = timezone.now()
        for key in ApiKey.objects.select_related("integration"):
            state = "works" if key.usable_at(now) else ("revoked" if key.revoked_at else "expired")
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(
                f"rdk_{key.prefix}_…  {key.integration.name}  {key.integration.role}  "
                f"{','.join(key.scopes)}  {state}  last used {used}"
            )
