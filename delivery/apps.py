from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = _("Delivery")

    def ready(self):
        # Celery autodiscovers delivery/tasks.py; the delivery-note jobs live beside it and register here.
        # Each batch's stored delivery state (the on-time rate reads it) follows a note or line written one row
        # at a time outside the services too (the admin, the shell); the services call the recompute themselves.
        from django.db.models.signals import post_delete, post_save

        from delivery import note_tasks, order_hooks  # noqa: F401
        from delivery import ontime as state
        from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine

        post_save.connect(state.note_line_saved, sender=DeliveryNoteLine, dispatch_uid="ontime-state-line-save")
        post_delete.connect(state.note_line_saved, sender=DeliveryNoteLine, dispatch_uid="ontime-state-line-delete")
        post_save.connect(state.note_saved, sender=DeliveryNote, dispatch_uid="ontime-state-note-save")
        post_save.connect(state.batch_saved, sender=DeliveryBatch, dispatch_uid="ontime-state-batch-save")
        post_delete.connect(state.batch_deleted, sender=DeliveryBatch, dispatch_uid="ontime-state-batch-delete")

        order_hooks.register()  # a change or cancellation of an order asks delivery first (orders/hooks.py)
