"""Enrol a member of staff for two-factor sign-in: print the authenticator app's setup link."""

from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create (or replace) the authenticator-app device of a member of staff and print the "
        "otpauth:// link to add to the app (by QR code or by hand)."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        user = User.objects.filter(email__iexact=email, is_staff=True).first()
        if user is None:
            raise CommandError(f"No member of staff has the email address {email}.", returncode=2)
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        self.stdout.write(device.config_url)
