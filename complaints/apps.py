from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = "Complaints"

    def ready(self):
        from complaints.append_only import (
            guards_reinstall_on_post_migrate,
            sqlite_function_register,
        )
        from complaints.bundles import bundle_queued
        from complaints.signals import outbox_message_queued
        from complaints.tasks import bundle_enqueue, outbox_enqueue

        outbox_message_queued.connect(outbox_enqueue, dispatch_uid="complaints.outbox_enqueue")
        bundle_queued.connect(bundle_enqueue, dispatch_uid="complaints.bundle_enqueue")
        from accounts.needs import needs_changed
        from complaints.services.customer_needs import needs_on_complaints

        needs_changed.connect(needs_on_complaints, dispatch_uid="complaints.needs_on_complaints")
        from accounts.representatives import representative_changed
        from complaints.services.representatives import representative_on_complaints

        representative_changed.connect(
            representative_on_complaints, dispatch_uid="complaints.representative_on_complaints"
        )
        connection_created.connect(
            sqlite_function_register, dispatch_uid="complaints.sqlite_function_register"
        )
        post_migrate.connect(
            guards_reinstall_on_post_migrate,
            sender=self,
            dispatch_uid="complaints.guards_reinstall",
        )
