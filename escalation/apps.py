from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = "Formal complaints and ADR"

    def ready(self):
        from escalation.casefile import register

        register()  # the ombudsman's case file, built by complaints.bundles
        from django.db.models.signals import post_migrate

        from escalation.figures import figures_after_migrate, receivers_connect

        receivers_connect()  # the monthly figures, kept in the same transactions (issue 16)
        # ...and counted from scratch when a migration creates or reshapes their table.
        post_migrate.connect(figures_after_migrate, sender=self, dispatch_uid="figures-migrate")
