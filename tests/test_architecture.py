"""A few rules of STYLE.md that a reviewer should not have to check by eye."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ["config", "contracts", "care", "routing", "reports"]
THIN_MODULES = ["api.py", "views.py", "forms.py", "admin.py", "tasks.py"]
WRITE_CALL = re.compile(
    r"\.(save|create|update|delete|bulk_create|bulk_update|get_or_create|"
    r"update_or_create)\("
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def writes_in(source: str) -> list[str]:
    """Lines that write to the database directly instead of calling a service."""
    return [
        line.strip()
        for line in source.splitlines()
        if WRITE_CALL.search(line) and not line.lstrip().startswith("#")
    ]


def inline_scripts_in(html: str) -> list[str]:
    return INLINE_SCRIPT.findall(html) + INLINE_HANDLER.findall(html)


def test_write_rule_catches_a_direct_save_and_spares_a_service_call():
    bad = (
        "def post(request):\n    case.status = 'closed'\n    case.save(update_fields=['status'])\n"
    )
    good = "def post(request):\n    services.close_case(case=case, by=request.user)\n"
    assert writes_in(bad) == ["case.save(update_fields=['status'])"]
    assert writes_in(good) == []


def test_inline_script_rule_catches_inline_code_and_spares_script_files():
    assert inline_scripts_in("<script>alert(1)</script>") == ["<script>"]
    assert inline_scripts_in('<button onclick="go()">') == [" onclick="]
    assert inline_scripts_in('<script src="/static/js/intake.js" defer></script>') == []


# The modules that may write to the database: each app's services and the cohesive modules
# that own one job (the SLA engine, retention, exports, the access log...). Every other module
# (views, forms, APIs, serializers, tasks, intake, selectors...) calls one of these.
WRITERS = {
    "config/access_log.py",  # the hash-chained access log
    "config/audit.py",  # the configuration audit: one record per change
    "config/db.py",  # the per-year reference counters
    "config/session_store.py",  # the session store: one UPDATE a save
    "config/bench/data.py",  # the benchmark's data set, built with COPY
    "config/demo.py",
    "config/roles.py",  # the role groups, from a migration
    "config/services.py",
    "config/sessions.py",  # users' own sessions: recorded at sign-in, ended by them
    "config/tokens.py",  # API tokens: issued, revoked, last use once a minute
    "config/two_factor.py",
    "config/users.py",  # accounts and roles, by administrators
    "contracts/orders/services.py",
    "contracts/services.py",
    "care/articles.py",  # the knowledge base: versions, four-eyes publication, uses
    "care/mail.py",  # the e-mail channel: messages in, the outbox sent
    "care/incidents.py",  # major incidents: links and resolution set-based
    "care/notifications.py",
    "care/outbox.py",  # mail to the end user, written with what it tells
    "care/replies.py",  # saved replies
    "care/retention.py",
    "care/services.py",
    "care/sla.py",  # the SLA recompute, set-based
    "care/subject_requests.py",
    "routing/access_watch.py",
    "routing/calls.py",  # calls from telephony events, presence on a call, callbacks
    "routing/demo.py",
    "routing/notifications.py",
    "routing/services.py",
    "routing/staff.py",  # operator profiles, certifications, people leaving, onboarding
    "routing/administration.py",  # sites and queues set up by the unit, with their audit
    "reports/exports.py",
    "reports/formats.py",  # openpyxl's workbook.save: a file, not the database
    "reports/nightly.py",
    "reports/call_rollups.py",  # the calls rollup: delete and insert per day
    "reports/rollups.py",  # the daily rollups: delete and insert per day
    "reports/snapshots.py",
    "reports/subscriptions.py",
}


def modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_only_the_writers_write():
    offending = {
        str(path.relative_to(ROOT)): lines
        for path in modules()
        if str(path.relative_to(ROOT)) not in WRITERS and (lines := writes_in(path.read_text()))
    }
    assert offending == {}, "write through a service (or add a cohesive writer to WRITERS)"


def test_every_listed_writer_exists_and_writes():
    listed = {str(path.relative_to(ROOT)): path for path in modules()}
    assert {name for name in WRITERS if name not in listed} == set()
    assert {name for name in WRITERS if not writes_in(listed[name].read_text())} == set()


@pytest.mark.parametrize("app", APPS)
def test_thin_modules_leave_writes_to_services(app):
    offending = {}
    for name in THIN_MODULES:
        path = ROOT / app / name
        if path.exists() and (lines := writes_in(path.read_text())):
            offending[str(path.relative_to(ROOT))] = lines
    assert offending == {}, "write through a service instead"


def test_templates_carry_no_inline_script():
    offending = {
        str(path.relative_to(ROOT)): found
        for path in ROOT.glob("templates/**/*.html")
        if (found := inline_scripts_in(path.read_text()))
    }
    assert offending == {}, "move scripts to static/ files (CSP forbids inline code)"


def test_no_template_or_module_loads_assets_from_another_site():
    external = re.compile(r"""(src|href)=["']https?://""", re.IGNORECASE)
    offending = [
        str(p.relative_to(ROOT))
        for p in ROOT.glob("templates/**/*.html")
        if external.search(p.read_text())
    ]
    assert offending == []


# A signal's answers used as a value: `x = signal.send(...)`, `for _r, answer in sig.send(...)`.
SIGNAL_ANSWER = re.compile(r"(=|\bin)\s*[\w.]+\.send\(")


def signal_answers_in(source: str) -> list[str]:
    """Lines that read what a signal's receivers returned: a call in disguise, which belongs
    in a port (care/ports.py, contracts/ports.py)."""
    return [
        line.strip()
        for line in source.splitlines()
        if SIGNAL_ANSWER.search(line) and not line.lstrip().startswith("#")
    ]


def test_signal_answer_rule_catches_a_value_read_and_spares_a_notification():
    bad = "answers = signals.queue_requested.send(sender=Case, case=case)\n"
    loop = "for _receiver, answer in signals.personal_data_scope.send(sender=Case, user=user):\n"
    good = "transaction.on_commit(lambda: signals.case_opened.send(sender=Case, case_id=1))\n"
    assert signal_answers_in(bad) == [bad.strip()]
    assert signal_answers_in(loop) == [loop.strip()]
    assert signal_answers_in(good) == []


@pytest.mark.parametrize("app", ["contracts", "care", "routing", "reports"])
def test_signals_only_notify_they_never_answer(app):
    offending = {
        str(path.relative_to(ROOT)): found
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and (found := signal_answers_in(path.read_text()))
    }
    assert offending == {}, "ask through a port, not a signal"


def test_the_unit_has_one_time_zone_for_django_and_for_calendars(settings):
    from contracts.calendars import UNIT_TIME_ZONE

    assert settings.TIME_ZONE == UNIT_TIME_ZONE


# --- The input layer (config/inputs.py): every door applies it ------------------------------


def _subclasses(base) -> set:
    found, pending = set(), [base]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                pending.append(subclass)
    return {c for c in found if c.__module__.split(".")[0] in APPS}


def inputs_outside_the_layer(serializer_classes) -> list[str]:
    """Input serializers (named `…Input` or `…Query`, as STYLE.md names them) that do not
    derive from InputSerializer, so skip the input rule."""
    from config.inputs import InputSerializer

    return sorted(
        c.__name__
        for c in serializer_classes
        if c.__name__.endswith(("Input", "Query")) and not issubclass(c, InputSerializer)
    )


def test_input_rule_catches_a_plain_serializer_and_spares_an_input_one():
    from rest_framework import serializers

    from config.inputs import InputSerializer

    class BadInput(serializers.Serializer):
        quantity = serializers.IntegerField()

    class GoodInput(InputSerializer):
        quantity = serializers.IntegerField()

    assert inputs_outside_the_layer([BadInput, GoodInput]) == ["BadInput"]


def test_every_input_serializer_form_and_filter_applies_the_input_rule():
    import django_filters
    from django import forms
    from rest_framework import serializers

    import config.urls  # noqa: F401  (imports every view, so every serializer and form)
    from config.inputs import FilterForm, InputForm

    assert inputs_outside_the_layer(_subclasses(serializers.Serializer)) == []
    forms_outside = sorted(
        c.__qualname__ for c in _subclasses(forms.Form) if not issubclass(c, InputForm)
    )
    assert forms_outside == [], "derive from config.inputs.InputForm"
    filters_outside = sorted(
        c.__qualname__
        for c in _subclasses(django_filters.FilterSet)
        if not issubclass(c._meta.form, FilterForm)
    )
    assert filters_outside == [], "set Meta.form = config.inputs.FilterForm"
