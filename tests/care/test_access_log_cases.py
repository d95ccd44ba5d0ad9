"""Viewing a case shows its caller's personal data: the access log records it."""

import pytest

from config.models import AccessLog

pytestmark = pytest.mark.django_db


def rows():
    return list(AccessLog.objects.order_by("id"))


def test_viewing_a_case_logs_its_reference_and_a_missing_one_logs_a_denial(
    client, operator, open_case_for, end_user
):
    case = open_case_for(end_user)
    client.force_login(operator)
    assert client.get(f"/care/cases/{case.reference}/").status_code == 200
    assert client.get("/care/cases/CS-2099-999999/").status_code == 404
    first, second = rows()
    assert (first.action, first.target, first.outcome) == (
        "view",
        f"case:{case.reference}",
        "allowed",
    )
    assert (second.target, second.outcome, second.status_code) == (
        "case:CS-2099-999999",
        "denied",
        404,
    )
