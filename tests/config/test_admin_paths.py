"""The admin, as the README sends an administrator there: every documented path opens."""

import pytest
from django.contrib import admin

pytestmark = pytest.mark.django_db

# The admin pages README.md names (Axes, the second-factor links, telephone lines,
# the access log) and those an administrator reaches from its index.
DOCUMENTED = [
    "/admin/",
    "/admin/axes/accessattempt/",
    "/admin/config/twofactorenrolmentlink/",
    "/admin/config/twofactorenrolmentlink/add/",
    "/admin/config/accesslog/",
    "/admin/routing/telephonyline/",
    "/admin/routing/queue/",
    "/admin/contracts/client/",
]


@pytest.mark.parametrize("path", DOCUMENTED)
def test_every_admin_path_the_readme_documents_opens_for_the_admin(client, admin_user, path):
    client.force_login(admin_user)
    assert client.get(path).status_code == 200


def test_every_model_in_the_admin_opens_for_the_admin(client, admin_user):
    client.force_login(admin_user)
    refused = []
    for model in admin.site._registry:
        path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        if client.get(path).status_code != 200:
            refused.append(path)
    assert refused == []


def test_the_admin_index_lists_what_the_admin_looks_after(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/").content.decode()
    for path in DOCUMENTED[1:]:
        assert f'href="{path.removesuffix("add/")}' in page or path.endswith("add/"), path
