from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from config import roles

pytest_plugins = ["tests.fixtures_contracts"]

ROME = ZoneInfo("Europe/Rome")


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Throttles and lockouts from one test never reach the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def role_groups(db):
    """The role groups as the migration made them; a transactional test's flush removes them."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    create_permissions(apps.get_app_config("config"), verbosity=0)
    roles.sync_role_groups(Group, Permission)


@pytest.fixture(autouse=True)
def _skip_by_database(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")


@pytest.fixture
def now():
    """A fixed aware instant: a Wednesday morning in Rome."""
    return datetime(2026, 12, 2, 10, 0, tzinfo=ROME)


def make_user(django_user_model, username: str, role: str | None, **extra):
    user = django_user_model.objects.create_user(
        username=username, password="correct-horse-battery", **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def user_factory(role_groups, django_user_model):
    def factory(username: str = "utente", role: str | None = roles.OPERATOR, **extra):
        return make_user(django_user_model, username, role, **extra)

    return factory


@pytest.fixture
def operator(user_factory):
    return user_factory("op.rossi", roles.OPERATOR, first_name="Mario", last_name="Rossi")


@pytest.fixture
def backoffice_user(user_factory):
    return user_factory("bo.verdi", roles.BACKOFFICE)


@pytest.fixture
def supervisor(user_factory):
    return user_factory("sup.neri", roles.SUPERVISOR)


@pytest.fixture
def manager(user_factory):
    return user_factory("man.gialli", roles.MANAGER)


@pytest.fixture
def admin_user(user_factory):
    return user_factory("adm.blu", roles.ADMIN, is_staff=True)


def _api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def operator_api(operator):
    return _api_client_for(operator)


@pytest.fixture
def supervisor_api(supervisor):
    return _api_client_for(supervisor)


@pytest.fixture
def manager_api(manager):
    return _api_client_for(manager)


@pytest.fixture
def admin_api(admin_user):
    return _api_client_for(admin_user)


@pytest.fixture
def anonymous_api():
    return APIClient()
