"""Who may do what in the register (§5.10.3 with accounts/roles.py): every role against every page and action,
and the admin, where the register's records are read-only for everybody."""

import pytest
from django.urls import reverse

from accounts.roles import MATRIX
from customer_property.models import PropertyCheck, PropertyDocument, PropertyIncident, PropertyItem
from tests.conftest import ROLE_USERS
from tests.customer_property.conftest import check, pdf

pytestmark = [pytest.mark.clause("5.10.3"), pytest.mark.django_db]


def test_pages_by_role(client, users, register, lamp):
    item = register(products=[lamp])
    from customer_property import services

    document = services.document_add(user=users["warehouse"], item=item, upload=pdf())
    pages = [
        (reverse("customer_property:list"), "custprop.view"),
        (reverse("customer_property:list") + "?format=xlsx", "custprop.view"),
        (reverse("customer_property:detail", args=[item.number]), "custprop.view"),
        (reverse("customer_property:file", args=[item.number, document.pk]), "custprop.view"),
        (reverse("customer_property:new"), "custprop.edit"),
        (reverse("customers:product_detail", args=[lamp.pk]), "customer.view"),
    ]
    for url, capability in pages:
        for role, dept in ROLE_USERS.items():
            client.force_login(users[role])
            response = client.get(url)
            status = response.status_code
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)  # read to the end, the served file is closed
            assert status < 500 and (status == 200) == (dept in MATRIX[capability]), (url, role, status)
    client.logout()
    assert client.get(pages[0][0]).status_code == 302  # to the login page


def test_actions_by_role(client, users, register):
    item = register()
    actions = [
        (reverse("customer_property:new"), "custprop.edit"),
        (reverse("customer_property:check", args=[item.number]), "custprop.check"),
        (reverse("customer_property:incident", args=[item.number]), "custprop.edit"),
        (reverse("customer_property:document", args=[item.number]), "custprop.edit"),
        (reverse("customer_property:return", args=[item.number]), "custprop.edit"),
        (reverse("customer_property:products", args=[item.number]), "custprop.edit"),
    ]
    for url, capability in actions:
        for role, dept in ROLE_USERS.items():
            client.force_login(users[role])
            status = client.post(url, {}).status_code  # an empty form: refused (403) or re-shown (422)
            assert status < 500 and (status != 403) == (dept in MATRIX[capability]), (url, role, status)
            if status != 403:
                assert status == 422, (url, role, status)
    assert PropertyItem.objects.count() == 1 and not PropertyCheck.objects.exists()


def test_the_matrix_is_as_the_procedure_says():
    assert MATRIX["custprop.view"] == frozenset(ROLE_USERS.values())
    assert MATRIX["custprop.edit"] == {"warehouse", "technical", "quality"}
    assert MATRIX["custprop.check"] == {"warehouse", "quality"}


def test_files_are_served_to_those_who_may_see_the_register_only(client, users, register):
    from accounts.media import capability_for

    assert capability_for("customer_property/2026/x.pdf") == "custprop.view"


def test_the_admin_shows_the_records_read_only_even_to_a_superuser(client, users, register):
    item = register()
    found = check(users, item, "damaged", who="qa")
    admin = users["admin"]
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    models = [
        (PropertyItem, item.pk),
        (PropertyCheck, found.pk),
        (PropertyIncident, found.incident.pk),
    ]
    from customer_property import services

    document = services.document_add(user=users["qa"], item=item, upload=pdf())
    models.append((PropertyDocument, document.pk))
    for model, pk in models:
        name = f"admin:customer_property_{model._meta.model_name}"
        assert client.get(reverse(f"{name}_changelist")).status_code == 200
        assert client.get(reverse(f"{name}_add")).status_code == 403
        assert client.get(reverse(f"{name}_delete", args=[pk])).status_code == 403
        page = client.get(reverse(f"{name}_change", args=[pk]))
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert client.post(reverse(f"{name}_change", args=[pk]), {"name": "changed"}).status_code == 403
    # simple_history's revert form saves whatever is posted: refused.
    version = item.history.earliest()
    url = reverse("admin:customer_property_propertyitem_simple_history", args=[item.pk, version.history_id])
    assert client.post(url, {"name": "reverted"}).status_code == 403
    item.refresh_from_db()
    assert item.name != "reverted"
