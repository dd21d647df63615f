from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = "Formal complaints and ADR"

    def ready(self):
        from escalation.casefile import register

        register()  # the ombudsman's case file, built by complaints.bundles
        from escalation.figures import receivers_connect

        receivers_connect()  # the monthly figures, kept in the same transactions (issue 16)
