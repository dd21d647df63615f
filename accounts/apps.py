from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and customers"

    def ready(self):
        from accounts.roles import roles_sync_on_post_migrate

        # Keep role groups complete when later migrations add models (and after a flush).
        post_migrate.connect(roles_sync_on_post_migrate, sender=self)

        # The response to a subject access request is a bundle built in the background.
        from accounts.sar import sar_bundle_can_view, sar_bundle_event, sar_bundle_filename
        from accounts.sar_bundle import sar_bundle_build
        from complaints.bundles import register_builder
        from complaints.models import BundleKind

        register_builder(
            BundleKind.SUBJECT_ACCESS,
            sar_bundle_build,
            can_view=sar_bundle_can_view,
            on_event=sar_bundle_event,
            filename=sar_bundle_filename,
        )
