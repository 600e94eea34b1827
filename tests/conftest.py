"""Shared fixtures: one named user per department, and a client logged in as any of them."""

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from accounts.roles import Dept
from accounts.services import departments_sync

# The same names as the demo users, so tests read like the README.
ROLE_USERS = {
    "admin": Dept.ADMIN,
    "marketing": Dept.MARKETING,
    "head": Dept.MARKETING_HEAD,
    "product": Dept.PRODUCT,
    "cs": Dept.CS,
    "tech": Dept.TECH,
    "pmc": Dept.PMC,
    "qa": Dept.QA,
    "warehouse": Dept.WAREHOUSE,
    "customs": Dept.CUSTOMS,
    "rep": Dept.MGMT_REP,
}


@pytest.fixture(autouse=True)
def english_by_default(settings):
    """Tests read English messages unless they ask for Chinese (the app's default is zh-hans)."""
    settings.LANGUAGE_CODE = "en"
    # Hashing a dozen passwords per test with PBKDF2 costs seconds; tests need no strong hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_cache():
    """The cache outlives a test's rolled-back database: start every test with an empty one."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded scans and generated PDFs go to a per-test folder, never to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_user(db, django_user_model):
    def make(username: str, *depts: str, **fields):
        departments_sync()
        user = django_user_model.objects.create_user(username=username, password="pw-Secret-123", **fields)
        if depts:
            user.groups.set(Group.objects.filter(name__in=depts))
        return user

    return make


@pytest.fixture
def users(make_user):
    """One user per department, by the demo names: users['qa'], users['head'] …"""
    made = {name: make_user(name, dept) for name, dept in ROLE_USERS.items()}
    made["admin"].is_staff = True
    made["admin"].save(update_fields=["is_staff"])
    return made


@pytest.fixture
def client_for(client, users):
    """client_for('cs') -> the test client logged in as the Customer Service user."""

    def login(name: str):
        client.force_login(users[name])
        return client

    return login
