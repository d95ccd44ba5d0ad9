"""A call in a real browser: the PBX's answer event pops the caller on the operator's page,
the case opened is theirs; the wallboard shows the call."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from care.models import Case, CaseStatus
from routing import services
from routing.models import OperatorProfile, PresenceState, Queue, TelephonyLine
from routing.simulator import Sender
from tests.e2e.conftest import sign_in
from tests.e2e.test_intake import caller  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "browser-test-telephony-secret"


@pytest.fixture
def pbx(settings, live_server):
    settings.TELEPHONY_SECRETS = [SECRET, ""]
    settings.ROUTING_AUTO_ASSIGN = False
    queue = Queue.objects.create(code="mobile-utenti", name="Utenti mobile")
    TelephonyLine.objects.create(number="800100200", name="Numero verde", queue=queue)
    return Sender(live_server.url, SECRET)


def test_an_answered_call_pops_its_caller_and_the_case_is_the_operators(
    page,
    operator_login,
    caller,  # noqa: F811 - the fixture imported above
    pbx,
):
    profile = OperatorProfile.objects.create(user=operator_login, extension="2041")
    services.set_presence(actor=operator_login, profile=profile, state=PresenceState.AVAILABLE)
    sign_in(page, "op.ferri")
    page.goto("/routing/")
    now = timezone.now()
    at = now.isoformat()
    assert pbx.post(
        {"event": "newCall", "call_id": "pbx-1", "from": "+393471234567", "to": "800100200",
         "at": (now - timedelta(seconds=8)).isoformat()}
    )[0] == 202  # fmt: skip
    assert pbx.post({"event": "answer", "call_id": "pbx-1", "operator": "2041", "at": at})[0] == 202
    # No typing: the page opens the intake on the caller within a second or two.
    expect(page).to_have_url(re.compile(r"/care/intake/$"), timeout=5_000)
    expect(page.get_by_test_id("on-call-banner")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Rosalia Amato"))).to_be_visible()
    page.get_by_label("Categoria").select_option("sim-lost")
    page.get_by_label("Oggetto").fill("SIM rubata")
    page.get_by_label("Descrizione").fill("SIM rubata a Palermo, denuncia presentata.")
    page.get_by_label("Oggetto").press("Enter")
    case = Case.objects.get()
    expect(page).to_have_url(re.compile(rf"/care/cases/{case.reference}/$"))
    assert case.assignee == operator_login
    assert case.status == CaseStatus.ASSIGNED
    assert case.first_response_at is not None
