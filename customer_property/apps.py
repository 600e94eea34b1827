from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomerPropertyConfig(AppConfig):
    name = "customer_property"
    verbose_name = _("Customer property")

    def ready(self):
        # Customers and orders must not import this app: it takes part in their pages through their registries.
        from accounts import work
        from customer_property import panels
        from customers import hooks as customer_hooks
        from orders import hooks as order_hooks

        customer_hooks.register(customer_hooks.product_panels, panels.product_panel)
        order_hooks.register(order_hooks.review_panels, panels.review_panel)
        order_hooks.register(order_hooks.prechecks, panels.prechecks)
        if "customer_property.selectors.my_work" not in work.PROVIDERS:
            work.PROVIDERS.append("customer_property.selectors.my_work")
