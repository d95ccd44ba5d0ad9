"""The sites and queues pages (Italian by default): each operation through its form, the
errors beside their fields, archive versus delete, and what each role reaches."""

import pytest
from django.urls import reverse

from care.models import Case
from config import roles
from config.models import ConfigChange
from routing.models import DEFAULT_QUEUE, OperatorProfile, Queue, Site


@pytest.fixture
def supervisor(user_factory):
    """A supervisor who runs no site or queue yet (not the routing fixture, which runs the
    home site): these tests give them what they set up."""
    return user_factory("sup.neri", roles.SUPERVISOR)


pytestmark = pytest.mark.django_db


def _page(client, user, url, data=None):
    client.force_login(user)
    if data is None:
        return client.get(url)
    return client.post(url, data, follow=True)


def test_an_administrator_creates_a_site_through_the_page(
    client, admin_user, supervisor, office_calendar
):
    page = _page(client, admin_user, reverse("routing:site-create"))
    assert page.status_code == 200
    assert "Nuova sede" in page.content.decode()
    response = _page(
        client,
        admin_user,
        reverse("routing:site-create"),
        {"code": "mi", "name": "Milano", "province": "mi", "calendar": office_calendar.id,
         "supervisors": [supervisor.id]},
    )  # fmt: skip
    assert response.redirect_chain[-1][0] == reverse("routing:site-list")
    assert "Milano" in response.content.decode()
    site = Site.objects.get()
    assert (site.province, site.calendar, list(site.supervisors.all())) == (
        "MI",
        office_calendar,
        [supervisor],
    )
    assert ConfigChange.objects.get(target_type="site").action == "created"


def test_a_bad_province_is_shown_beside_its_field(client, admin_user):
    response = _page(
        client, admin_user, reverse("routing:site-create"),
        {"code": "xx", "name": "Nowhere", "province": "ZZ"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "provincia" in response.context["form"].errors["province"][0]
    assert not Site.objects.exists()


def test_the_sites_supervisor_edits_name_and_calendar_only(client, admin_user, supervisor):
    site = Site.objects.create(code="mi", name="Milano", province="MI")
    site.supervisors.add(supervisor)
    page = _page(client, supervisor, reverse("routing:site-edit", args=["mi"]))
    assert set(page.context["form"].fields) == {"name", "calendar"}
    assert "Elimina" not in page.content.decode()
    _page(client, supervisor, reverse("routing:site-edit", args=["mi"]),
          {"name": "Milano Bicocca", "calendar": ""})  # fmt: skip
    assert Site.objects.get().name == "Milano Bicocca"


def test_deleting_a_site_with_operators_says_why(client, admin_user, operator):
    site = Site.objects.create(code="mi", name="Milano", province="MI")
    OperatorProfile.objects.create(user=operator, site=site)
    response = _page(client, admin_user, reverse("routing:site-delete", args=["mi"]), {})
    assert "operatori" in response.content.decode()
    assert Site.objects.exists()


def test_a_supervisor_without_sites_or_queues_is_told_so(client, supervisor):
    for name in ("routing:site-list", "routing:queue-list"):
        page = _page(client, supervisor, reverse(name))
        assert page.status_code == 200
        assert 'data-testid="no-scope"' in page.content.decode()


def test_an_operator_reaches_neither_page(client, operator):
    for name in ("routing:site-list", "routing:queue-list"):
        assert _page(client, operator, reverse(name)).status_code == 403


def test_a_manager_creates_a_queue_and_a_criteria_change_refiles_waiting_cases(
    client, manager, default_queue, contract, routed_case
):
    case = routed_case(category="roaming")
    response = _page(
        client, manager, reverse("routing:queue-create"),
        {"code": "pa", "name": "PA", "segment": "PA", "category_codes": "sim-lost, roaming",
         "language": "", "overflow_client_minutes": 10, "overflow_national_minutes": 30,
         "service_level_seconds": 20, "service_level_target": 80,
         "longest_wait_alarm_seconds": 120, "wrap_up_seconds": 60, "callback_minutes": 120},
    )  # fmt: skip
    assert response.redirect_chain[-1][0] == reverse("routing:queue-list")
    assert Queue.objects.get(code="pa").category_codes == ["roaming", "sim-lost"]
    assert Case.objects.get(id=case.id).queue_code == "pa"
    page = _page(client, manager, reverse("routing:queue-edit", args=["pa"]))
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data["category_codes"] = "sim-lost"
    response = _page(client, manager, reverse("routing:queue-edit", args=["pa"]), data)
    assert "1 pratica in attesa è stata smistata di nuovo" in response.content.decode()
    assert Case.objects.get(id=case.id).queue_code == DEFAULT_QUEUE
    change = ConfigChange.objects.filter(target_type="queue").order_by("id").last()
    assert change.after["waiting_cases_moved"] == 1


def test_a_second_catch_all_queue_is_refused_at_the_top_of_the_form(client, manager, default_queue):
    response = _page(
        client, manager, reverse("routing:queue-create"),
        {"code": "tutto", "name": "Tutto", "overflow_client_minutes": 10,
         "overflow_national_minutes": 30, "service_level_seconds": 20,
         "service_level_target": 80, "longest_wait_alarm_seconds": 120,
         "wrap_up_seconds": 60, "callback_minutes": 120},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Generale" in response.context["form"].non_field_errors()[0]
    assert not Queue.objects.filter(code="tutto").exists()


def test_delete_refused_for_a_queue_with_cases_offers_archiving_which_refiles(
    client, manager, default_queue, contract, routed_case
):
    Queue.objects.create(code="pa", name="PA", segment="PA")
    case = routed_case()
    response = _page(client, manager, reverse("routing:queue-delete", args=["pa"]), {})
    assert "Archiviala" in response.content.decode()
    assert Queue.objects.filter(code="pa").exists()
    response = _page(client, manager, reverse("routing:queue-archive", args=["pa"]), {})
    assert Queue.objects.get(code="pa").archived_at is None  # a case waits
    response = _page(
        client, manager, reverse("routing:queue-archive", args=["pa"]), {"refile": "on"}
    )
    assert Queue.objects.get(code="pa").archived_at is not None
    assert Case.objects.get(id=case.id).queue_code == DEFAULT_QUEUE
    page = _page(client, manager, reverse("routing:queue-list"))
    assert [q.code for q in page.context["archived"]] == ["pa"]
    assert "pa" not in [q.code for q in page.context["queues"]]


def test_a_queues_supervisor_sees_only_the_thresholds(client, supervisor, default_queue):
    default_queue.supervisors.add(supervisor)
    page = _page(client, supervisor, reverse("routing:queue-edit", args=[DEFAULT_QUEUE]))
    assert "segment" not in page.context["form"].fields
    assert "overflow_client_minutes" in page.context["form"].fields
    _page(client, supervisor, reverse("routing:queue-edit", args=[DEFAULT_QUEUE]),
          {**{k: page.context["form"].initial[k] for k in page.context["form"].fields},
           "wrap_up_seconds": 90})  # fmt: skip
    assert Queue.objects.get(code=DEFAULT_QUEUE).wrap_up_seconds == 90


def test_the_navigation_names_sedi_and_code(client, admin_user, manager):
    page = _page(client, admin_user, reverse("home"))
    assert "Sedi" in page.content.decode()
    assert "Code" in page.content.decode()
    page = _page(client, manager, reverse("home"))
    assert reverse("routing:queue-list") in page.content.decode()
    assert reverse("routing:site-list") not in page.content.decode()


def test_the_queue_list_costs_a_fixed_number_of_queries(
    client, manager, supervisor, default_queue, django_assert_max_num_queries
):
    for n in range(5):
        queue = Queue.objects.create(code=f"q{n}", name=f"Q{n}", segment="PA", service="mobile")
        queue.supervisors.add(supervisor)
    client.force_login(manager)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("routing:queue-list")).status_code == 200
