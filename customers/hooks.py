"""Where the apps that stand on customers take part in customers' pages, without customers importing them.

- ``product_panels``: ``provider(product) -> list[tuple[str, dict]]``: (template name, context) shown on a
  product's page below its facts, e.g. the customer property (moulds, materials) the product is made with. Each
  template is included with ``panel`` set to the context. Read-only; a provider keeps to a bounded number of
  queries. The apps register their providers in their AppConfig.ready.
"""

from collections.abc import Callable

product_panels: list[Callable] = []


def register(registry: list[Callable], function: Callable) -> None:
    """Idempotent: ``ready()`` may run more than once (tests, autoreload)."""
    if function not in registry:
        registry.append(function)


def panels_for_product(product) -> list[tuple[str, dict]]:
    panels = []
    for provider in product_panels:
        panels.extend(provider(product))
    return panels
