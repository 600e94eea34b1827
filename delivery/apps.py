from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = _("Delivery")

    def ready(self):
        # Celery autodiscovers delivery/tasks.py; the delivery-note jobs live beside it and register here.
        # The on-time rate caches closed months; any change to what it counts invalidates them.
        from django.db.models.signals import post_delete, post_save

        from delivery import note_tasks, order_hooks  # noqa: F401
        from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine
        from delivery.ontime import data_changed
        from orders.models import Order

        for model in (DeliveryBatch, DeliveryNote, DeliveryNoteLine, Order):
            post_save.connect(data_changed, sender=model, dispatch_uid=f"ontime-{model.__name__}-save")
            post_delete.connect(data_changed, sender=model, dispatch_uid=f"ontime-{model.__name__}-delete")

        order_hooks.register()  # a change or cancellation of an order asks delivery first (orders/hooks.py)
