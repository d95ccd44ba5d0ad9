"""The admin speaks Presidio's name and Italian, third-party pages included (#19 point 5)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_admin_carries_presidios_name_in_italian(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/").content.decode()
    assert "<title>Amministrazione | Presidio — Amministrazione</title>" in page
    assert "Presidio — Amministrazione" in _text(page)
    assert "Django" not in _text(page)


@pytest.mark.parametrize(
    ("path", "italian", "english"),
    [
        (
            "/admin/axes/accessattempt/",
            ["Tentativi di accesso", "Ora del tentativo", "Bloccato"],
            ["Access attempts", "Attempt Time", "Locked Out", "Path"],
        ),
        (
            "/admin/axes/accesslog/",
            ["Registro degli accessi", "Ora di uscita"],
            ["Access logs", "Logout Time", "User Agent"],
        ),
        ("/admin/axes/accessfailurelog/", ["Accessi falliti"], ["Access failures"]),
    ],
)
def test_django_axes_pages_are_in_italian(client, admin_user, path, italian, english):
    client.force_login(admin_user)
    text = _text(client.get(path).content.decode())
    for label in italian:
        assert label in text
    for label in english:
        assert label not in text


def test_the_admin_follows_english_when_english_is_chosen(client, admin_user):
    client.force_login(admin_user)
    client.cookies["django_language"] = "en"
    text = _text(client.get("/admin/axes/accessattempt/").content.decode())
    assert "Presidio — Administration" in text
    assert "Access attempts" in text
