"""The Italian catalogue is complete: every string in the code has an Italian translation."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "locale" / "it" / "LC_MESSAGES" / "django.po"
SOURCE_DIRS = ["config", "contracts", "care", "routing", "reports", "templates"]


def test_every_italian_message_is_translated():
    po = polib.pofile(str(PO_FILE))
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"missing Italian translations: {untranslated}"
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy}"
    assert not po.obsolete_entries()


def test_compiled_catalogue_matches_the_po_file():
    po = polib.pofile(str(PO_FILE))
    mo = polib.mofile(str(PO_FILE.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    for entry in po.translated_entries():
        assert compiled.get((entry.msgctxt, entry.msgid)) == (entry.msgstr, entry.msgstr_plural), (
            f"django.mo is stale for {entry.msgid!r}: run `make messages`"
        )


def test_catalogue_holds_every_string_of_the_code(tmp_path):
    """Extract the strings afresh (as `make messages` does) and compare with the catalogue."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext is required under CI=true")
        pytest.skip("GNU gettext (xgettext) is not installed")
    for name in [*SOURCE_DIRS, "locale"]:
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "it",
            "--no-obsolete",
            "--ignore",
            ".tmp/*",
            "--ignore",
            "staticfiles/*",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    extracted = {e.msgid for e in polib.pofile(str(tmp_path / PO_FILE.relative_to(ROOT)))}
    committed = {e.msgid for e in polib.pofile(str(PO_FILE))}
    assert extracted - committed == set(), "strings missing from the catalogue: run `make messages`"
    assert committed - extracted == set(), "strings no longer in the code: run `make messages`"


@pytest.mark.django_db
def test_pages_speak_italian_by_default_and_english_on_request(client):
    italian = client.get(reverse("login")).content.decode()
    assert 'lang="it"' in italian
    assert "Accedi a Presidio" in italian
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("login")).content.decode()
    assert 'lang="en"' in english
    assert "Sign in to Presidio" in english


@pytest.mark.django_db
def test_pages_stay_italian_whatever_the_browser_language(client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Accedi a Presidio" in page


@pytest.mark.django_db
def test_drf_field_messages_its_italian_catalogue_lacks_come_in_italian(admin_api, operator):
    """DRF's "Not a valid string." has no Italian of its own: ours gives it."""
    url = reverse("api:person-sessions-end", args=[operator.pk])
    answer = admin_api.post(url, {"reason": ["una lista"]}, format="json").json()
    assert answer["fields"]["reason"] == ["Non è un testo valido."]
    english = admin_api.post(
        url, {"reason": ["a list"]}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    assert english["fields"]["reason"] == ["Not a valid string."]
