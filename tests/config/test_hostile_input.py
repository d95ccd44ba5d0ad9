"""Hostile text (very long strings, control characters, mixed scripts, HTML/JS, SQL-like
text) through the end-user import, the intake API and the caller lookup: every answer is a
clear 2xx or 4xx, never a 5xx, and what is refused leaves nothing behind."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from care.models import Case
from contracts.models import EndUser
from tests.conftest import look_up
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

NASTY = [
    "<script>alert(1)</script>",
    "'; DROP TABLE care_case; --",
    '=HYPERLINK("http://x")',
    "\u202eevil\u202c",
    "\u03a9\u2248\u00e7\u221a\u222b\u02dc\u00b5 田中さん Ελληνικά عربى",
    "\x00\x01\x1b[31m",
    "a" * 5_000,
]
hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(min_size=0, max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["first_name", "last_name", "phone", "email", "employee_code"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@SETTINGS
@given(first=hostile_text, last=hostile_text, phone=hostile_text, email=hostile_text)
def test_an_import_of_hostile_rows_answers_clearly_and_all_or_nothing_holds(
    manager_api, contract, first, last, phone, email
):
    before = EndUser.objects.count()
    try:
        data = _csv([[first, last, phone, email, "X1"]])
    except UnicodeEncodeError:
        return  # not a file anyone can send
    upload = SimpleUploadedFile("utenti.csv", data, content_type="text/csv")
    response = manager_api.post(
        "/api/v1/end-users/import/",
        {
            "client": contract.client_id,
            "file": upload,
            "dry_run": "false",
            "all_or_nothing": "true",
        },
        format="multipart",
    )
    assert response.status_code < 500, response.content[:300]
    body = response.json()
    if response.status_code >= 400 or body.get("errors"):
        assert EndUser.objects.count() == before  # refused: nothing written


@SETTINGS
@given(subject=hostile_text, description=hostile_text, channel=hostile_text)
def test_intake_with_hostile_text_opens_a_case_or_refuses(
    operator_api, contract, subject, description, channel
):
    end_user = EndUser.objects.filter(client=contract.client).first()
    if end_user is None:  # the first example: a caller, looked up as the API requires
        end_user = EndUserFactory(client=contract.client)
        look_up(operator_api, end_user)
    before = Case.objects.count()
    response = operator_api.post(
        "/api/v1/cases/",
        {
            "contract": contract.code,
            "end_user": end_user.id,
            "category": "sim-lost",
            "channel": channel,
            "subject": subject,
            "description": description,
            "duplicate_override_reason": "test",
        },
        format="json",
    )
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert Case.objects.count() == before
        assert response.json()["message"]
    else:
        assert operator_api.get(f"/api/v1/cases/{response.json()['reference']}/").status_code == 200


@SETTINGS
@given(query=hostile_text)
def test_the_lookup_page_and_api_answer_hostile_searches(client, operator, operator_api, query):
    client.force_login(operator)
    page = client.post("/contracts/lookup/", {"query": query})
    assert page.status_code < 500
    assert b"<script>alert(1)</script>" not in page.content
    api = operator_api.post("/api/v1/lookup/", {"phone": query}, format="json")
    assert api.status_code < 500


# --- The JSON parser (config/parsers.py) and the body limit ---------------------------------


def raw_post(api, url: str, body: str):
    return api.generic("POST", url, body, content_type="application/json")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "annidato"),  # RecursionError in the decoder
        ('{"phone": ' + "[" * 40 + '"3"' + "]" * 40 + "}", "annidato"),  # over MAX_DEPTH
        ('{"phone": "347\\u0000"}', "NUL"),
        ('{"phone": "347\\udcff"}', "surrogat"),
        ('{"\\ud800": "347"}', "surrogat"),
    ],
)
def test_json_nobody_could_store_is_a_400_that_says_why(operator_api, body, message):
    response = raw_post(operator_api, "/api/v1/lookup/", body)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_a_lone_surrogate_in_a_choice_field_is_a_400_not_an_unencodable_echo(
    operator_api, contract
):
    body = (
        '{"contract": "CODE", "category": "sim-lost", "channel": "\\udcff", '
        '"subject": "s", "description": "d"}'
    ).replace("CODE", contract.code)
    response = raw_post(operator_api, "/api/v1/cases/", body)
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_a_body_over_the_upload_limit_is_a_413(operator_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = raw_post(operator_api, "/api/v1/lookup/", '{"phone": "%s"}' % ("3" * 2048))
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
