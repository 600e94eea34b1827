"""Where the apps that stand on orders take part in an order's changes and cancellation (§5.3).

Orders must not import delivery (delivery stands on orders), yet a change must not break a delivery already
planned, and a cancellation must withdraw what was planned. So orders calls the functions registered here, and
delivery registers its own in its AppConfig.ready (delivery/order_hooks.py). Every function runs inside the
transaction of the change, with the order row locked.

- ``change_guards``: ``guard(order, proposed, withdraw) -> list[str]``: why the proposed content (a snapshot, see
  ``services.snapshot``) cannot be applied, given the ids of the batches the user chose to withdraw. An empty list
  lets the change through. Called when the change is recorded and again when it is applied.
- ``change_listeners``: ``listener(order, proposed, withdraw, user) -> list[str]``: carries the change out on the
  app's side (withdraws the chosen batches) before the order's lines are updated; returns lines for the memo.
- ``cancel_listeners``: ``listener(order, user) -> list[str]``: withdraws or closes what is still open on a
  cancelled order; returns lines for the memo (what was withdrawn, what Customer Service must deal with).
- ``withdrawable``: ``provider(order) -> list[tuple[int, str]]``: what a change may withdraw (id, description),
  offered on the change form.
- ``prechecks``: ``provider(order) -> list[selectors.Check]``: the system's checks an app above orders adds to
  what the signers see (§5.2.4), e.g. samples: "new product without an approved sample". A check informs; it does
  not block (the department decides, and a "no" is an objection).
- ``review_panels``: ``provider(order, department) -> list[tuple[str, dict]]``: (template name, context) shown in
  that department's review card beside its checklist, e.g. the customer's approved samples for Technical, the
  customer property a product is made with for Quality and Technical. Read-only; called on every order page, so
  a provider keeps to a bounded number of queries.
"""

from collections.abc import Callable

change_guards: list[Callable] = []
change_listeners: list[Callable] = []
cancel_listeners: list[Callable] = []
withdrawable: list[Callable] = []
prechecks: list[Callable] = []
review_panels: list[Callable] = []


def register(registry: list[Callable], function: Callable) -> None:
    """Idempotent: ``ready()`` may run more than once (tests, autoreload)."""
    if function not in registry:
        registry.append(function)
