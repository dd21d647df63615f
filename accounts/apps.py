from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and customers"

    def ready(self):
        from accounts.roles import roles_sync_on_post_migrate

        # Keep role groups complete when later migrations add models (and after a flush).
        post_migrate.connect(roles_sync_on_post_migrate, sender=self)
