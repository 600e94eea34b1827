from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SamplesConfig(AppConfig):
    name = "samples"
    verbose_name = _("Samples")

    def ready(self):
        # Samples stand on orders and delivery; neither may import samples. They take part through registries:
        # the order review's checks and Technical's card (orders/hooks.py), and My work (accounts.work).
        from accounts import work
        from orders import hooks
        from samples import selectors

        hooks.register(hooks.prechecks, selectors.precheck)
        hooks.register(hooks.review_panels, selectors.review_panel)
        if "samples.selectors.my_work" not in work.PROVIDERS:
            work.PROVIDERS.append("samples.selectors.my_work")
