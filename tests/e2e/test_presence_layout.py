"""The presence pages and the configuration changes browser fit a 1280 px screen and a
390 px phone (the checks of test_layout.py)."""

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.test_layout import WIDTHS, check_page
from tests.reports import known_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

known = known_data.known  # the reports' known data set, as test_layout.py uses it
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract
open_case_for = known_data.open_case_for


def _size(page, width_name: str) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width_name], strict=True)))


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_the_supervisors_presence_page_fits_the_screen(page, known, width_name):
    _size(page, width_name)
    sign_in(page, known.supervisor.username)
    submit = "[data-testid=presence-day-form] button[type=submit]"
    check_page(page, "/routing/online/", submit, "presence-board", width_name)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_an_operators_presence_history_fits_the_screen(page, known, width_name):
    _size(page, width_name)
    sign_in(page, known.operator.username)
    submit = "[data-testid=presence-history-form] button[type=submit]"
    check_page(page, "/routing/presence/history/", submit, "presence-history", width_name)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_the_changes_browser_fits_the_screen(page, known, manager, width_name):
    _size(page, width_name)
    sign_in(page, manager.username)
    submit = "[data-testid=change-filters] button[type=submit]"
    check_page(page, "/reports/changes/", submit, "changes", width_name)
