from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = "Complaints"

    def ready(self):
        from complaints.signals import outbox_message_queued
        from complaints.tasks import outbox_enqueue

        outbox_message_queued.connect(outbox_enqueue, dispatch_uid="complaints.outbox_enqueue")
