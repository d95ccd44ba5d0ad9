"""The e-mail channel: messages in (new cases, replies threaded onto their case, triage,
automatic mail ignored, each Message-ID once), the outbox out (acknowledgement, notes,
resolution; retried; the e-mail first response met when the mail is handed over)."""

import threading
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.core import mail as django_mail

from care import mail, mailparse, services
from care.models import (
    Case,
    CaseEvent,
    CaseStatus,
    InboundMail,
    Note,
    OutboundMail,
    SlaState,
)
from config.models import AccessLog
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db
Outcome = InboundMail.Outcome


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.MAILBOX_CATEGORIES = {"*": "sim-lost"}
    settings.MAIL_DOMAIN = "presidio.test"


def message(
    *,
    sender="utente@example.it",
    subject="SIM smarrita",
    body="Ho perso la SIM ieri sera.",
    message_id="<m1@example.it>",
    **headers,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Mario Bianchi <{sender}>"
    msg["To"] = "assistenza@presidio.test"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def sender(end_user):
    end_user.email = "utente@example.it"
    end_user.save(update_fields=["email"])
    return end_user


def receive(raw, now, **kwargs):
    return mail.receive_mail(raw, mailbox="assistenza", now=now, **kwargs)


# --- Parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto_submitted"),
        ({"Precedence": "bulk"}, "precedence"),
        ({"X_Autoreply": "yes"}, "auto_reply"),
        ({"List_Id": "<news.example.it>"}, "mailing_list"),
    ],
)
def test_automatic_mail_is_recognised(headers, why):
    assert mailparse.parse(message(**headers)).automatic == why


def test_a_bounce_from_the_mailer_daemon_is_automatic():
    parsed = mailparse.parse(message(sender="MAILER-DAEMON@mx.example.it"))
    assert parsed.automatic == "robot_sender"


def test_html_becomes_text_and_scripts_go():
    raw = (
        b"From: a@example.it\r\nMessage-ID: <h@x>\r\nSubject: Ciao\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Buongiorno,<br>la SIM <b>non</b> funziona</p><script>alert(1)</script>"
    )
    parsed = mailparse.parse(raw)
    assert parsed.text == "Buongiorno,\nla SIM non funziona"


def test_quoted_history_is_folded_away_and_kept():
    body = (
        "Grazie, ora funziona.\n\nIl giorno lun 1 dic, Presidio ha scritto:\n> Buongiorno,\n> ..."
    )
    parsed = mailparse.parse(message(body=body))
    assert parsed.reply == "Grazie, ora funziona."
    assert "> Buongiorno" in parsed.text


def test_malformed_input_never_raises():
    for raw in (
        b"",
        b"\x00\xff\xfe garbage",
        b"Subject: =?x-unknown?B?w6g=?=\r\nFrom: nobody\r\n\r\nciao",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
    ):
        parsed = mailparse.parse(raw)
        assert parsed.message_id.startswith("<sha256-")
        assert "\x00" not in parsed.subject + parsed.text


def test_an_unknown_charset_in_the_subject_is_read_as_latin_1():
    parsed = mailparse.parse(b"Subject: =?x-unknown?Q?perch=E8?=\r\nMessage-ID: <c@x>\r\n\r\nx")
    assert parsed.subject == "perch\u00e8"


# --- In: new cases, replies, triage, once -------------------------------------------------------


def test_a_known_senders_message_opens_an_email_case_and_acknowledges_it(sender, contract, now):
    received = receive(message(), now)
    assert received.outcome == Outcome.CASE_OPENED
    case = Case.objects.get(reference=received.reference)
    assert (case.channel, case.end_user, case.category.code) == ("email", sender, "sim-lost")
    assert case.description == "Ho perso la SIM ieri sera."
    ack = OutboundMail.objects.get(case=case)
    assert ack.kind == "ack"
    assert ack.to_address == "utente@example.it"
    assert f"[{case.reference}]" in ack.subject
    assert InboundMail.objects.get().case == case


def test_the_same_message_twice_opens_one_case(sender, contract, now):
    first = receive(message(), now)
    again = receive(message(), now + timedelta(minutes=1))
    assert again.duplicate
    assert again.reference == first.reference
    assert Case.objects.count() == 1
    assert InboundMail.objects.count() == 1


def test_a_message_left_half_done_by_a_crash_is_taken_over(sender, contract, now):
    parsed = mailparse.parse(message())
    InboundMail.objects.create(
        message_id=parsed.message_id,
        mailbox="assistenza",
        received_at=now,
        outcome=Outcome.PROCESSING,
        claimed_at=now - timedelta(minutes=10),
    )
    received = receive(message(), now)
    assert received.outcome == Outcome.CASE_OPENED
    assert not received.duplicate
    assert Case.objects.count() == 1


def test_a_claim_still_fresh_is_left_to_its_worker(sender, contract, now):
    parsed = mailparse.parse(message())
    InboundMail.objects.create(
        message_id=parsed.message_id,
        mailbox="assistenza",
        received_at=now,
        outcome=Outcome.PROCESSING,
        claimed_at=now - timedelta(seconds=30),
    )
    assert receive(message(), now).duplicate
    assert not Case.objects.exists()


def _case_by_mail(sender, now) -> Case:
    return Case.objects.get(reference=receive(message(), now).reference)


def test_a_reply_to_the_acknowledgement_lands_on_its_case(sender, contract, now):
    case = _case_by_mail(sender, now)
    ack = OutboundMail.objects.get(case=case)
    reply = message(
        subject="Re: la mia richiesta",
        body="Il numero è 347 1234567.\n\n> testo citato",
        message_id="<m2@example.it>",
        In_Reply_To=ack.message_id,
    )
    received = receive(reply, now + timedelta(hours=1))
    assert (received.outcome, received.reference) == (Outcome.NOTE_ADDED, case.reference)
    note = Note.objects.get(case=case, visibility=Note.Visibility.FROM_CUSTOMER)
    assert note.body == "Il numero è 347 1234567."
    assert Case.objects.count() == 1
    assert case.events.filter(kind=CaseEvent.Kind.MAIL_RECEIVED).exists()


def test_a_reply_with_the_reference_in_the_subject_lands_on_its_case(sender, contract, now):
    case = _case_by_mail(sender, now)
    reply = message(subject=f"Aggiornamento [{case.reference}]", message_id="<m3@example.it>")
    assert receive(reply, now + timedelta(hours=1)).reference == case.reference


def test_a_reply_resumes_a_clock_waiting_for_the_customer(sender, contract, now, operator):
    case = _case_by_mail(sender, now)
    services.assign_case(actor=operator, case=case, assignee=operator, now=now)
    services.transition_case(actor=operator, case=case, to="in_progress", now=now)
    services.transition_case(actor=operator, case=case, to="waiting_customer", now=now)
    reply = message(subject=f"Re: [{case.reference}]", message_id="<m4@example.it>")
    receive(reply, now + timedelta(hours=2))
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.paused_at is None


def test_a_reply_reopens_a_recently_resolved_case_instead_of_a_duplicate(
    sender, contract, now, operator
):
    case = _case_by_mail(sender, now)
    services.assign_case(actor=operator, case=case, assignee=operator, now=now)
    services.transition_case(
        actor=operator, case=case, to="resolved", resolution_code=CLOSING_CODE, now=now
    )
    reply = message(subject=f"Re: [{case.reference}]", message_id="<m5@example.it>")
    receive(reply, now + timedelta(days=2))
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.reopen_count == 1
    assert Case.objects.count() == 1


def test_a_reply_from_someone_else_never_lands_on_the_case(sender, contract, now):
    case = _case_by_mail(sender, now)
    other = message(
        sender="intruso@example.it", subject=f"Re: [{case.reference}]", message_id="<x@e>"
    )
    received = receive(other, now)
    assert received.outcome == Outcome.TRIAGE
    item = InboundMail.objects.get(message_id="<x@e>")
    assert (item.triage, item.reason, item.case) == ("open", "sender_not_on_case", None)
    assert not Note.objects.filter(case=case, visibility="inbound").exists()


def test_an_unknown_sender_goes_to_triage(contract, now):
    received = receive(message(sender="sconosciuto@example.it"), now)
    assert received.outcome == Outcome.TRIAGE
    assert InboundMail.objects.get().reason == "unknown_sender"


def test_a_similar_open_case_sends_the_message_to_triage_not_to_a_duplicate(sender, contract, now):
    _case_by_mail(sender, now)
    received = receive(message(message_id="<m6@example.it>"), now + timedelta(minutes=5))
    assert received.outcome == Outcome.TRIAGE
    assert Case.objects.count() == 1


def test_automatic_mail_is_recorded_and_never_answered(sender, contract, now):
    received = receive(message(Auto_Submitted="auto-replied"), now)
    assert received.outcome == Outcome.IGNORED
    assert not Case.objects.exists()
    assert not OutboundMail.objects.exists()


def test_two_autoresponders_cannot_loop_through_presidio(sender, contract, now):
    case = _case_by_mail(sender, now)
    ack = OutboundMail.objects.get(case=case)
    bounce_back = message(
        subject=f"Fuori ufficio: [{case.reference}]",
        message_id="<ooo@example.it>",
        In_Reply_To=ack.message_id,
        Auto_Submitted="auto-replied",
    )
    assert receive(bounce_back, now).outcome == Outcome.IGNORED
    assert OutboundMail.objects.count() == 1  # nothing answered the robot
    assert "auto-replied" in mail._message(ack, None).extra_headers["Auto-Submitted"]


def test_a_message_over_the_limit_is_refused_politely(sender, contract, now, settings):
    settings.MAIL_MAX_BYTES = 2048
    received = receive(message(body="x" * 5000), now)
    assert received.outcome == Outcome.REFUSED
    refusal = OutboundMail.objects.get()
    assert refusal.kind == "refusal"
    assert refusal.to_address == "utente@example.it"
    assert InboundMail.objects.get().raw == b""


def test_a_message_without_message_id_is_processed_once(sender, contract, now):
    raw = message(message_id=None)
    assert receive(raw, now).outcome == Outcome.CASE_OPENED
    assert receive(raw, now).duplicate


# --- Out: the outbox and the e-mail first response ------------------------------------------


def test_a_note_for_the_customer_goes_out_and_meets_the_first_response_when_sent(
    sender, contract, now, operator, django_capture_on_commit_callbacks
):
    case = _case_by_mail(sender, now)
    services.assign_case(actor=operator, case=case, assignee=operator, now=now)
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(
            actor=operator, case=case, body="La SIM è bloccata.", visibility="customer"
        )
    case.refresh_from_db()
    sent = OutboundMail.objects.get(kind="note")
    # Eager tasks sent it after commit; the first response is the handing over, recorded.
    assert sent.status == "sent"
    assert [m.to for m in django_mail.outbox] == [["utente@example.it"]]
    assert "La SIM è bloccata." in django_mail.outbox[0].body
    assert case.first_response_state == SlaState.MET
    event = case.events.get(kind=CaseEvent.Kind.FIRST_RESPONSE)
    assert event.detail == {"by": "mail", "message_id": sent.message_id}


def test_an_internal_note_never_leaves(sender, contract, now, operator):
    case = _case_by_mail(sender, now)
    services.assign_case(actor=operator, case=case, assignee=operator, now=now)
    services.add_note(actor=operator, case=case, body="Cliente difficile", visibility="internal")
    assert not OutboundMail.objects.filter(kind="note").exists()


def test_the_first_response_of_an_email_case_waits_for_the_mail_server(
    sender, contract, now, operator, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # nothing sent: the worker is not there
    case = _case_by_mail(sender, now)
    services.assign_case(actor=operator, case=case, assignee=operator, now=now)
    services.add_note(actor=operator, case=case, body="Risposta", visibility="customer", now=now)
    case.refresh_from_db()
    assert case.first_response_at is None


def test_a_phone_case_note_meets_the_first_response_at_once(end_user, contract, now, operator):
    case = services.open_case(
        actor=operator,
        request=services.CaseRequest(
            contract_code=contract.code,
            category_code="sim-lost",
            channel="phone",
            subject="SIM",
            description="Persa la SIM",
            end_user_id=end_user.id,
        ),
        now=now,
    )
    services.add_note(actor=operator, case=case, body="Bloccata", visibility="customer", now=now)
    case.refresh_from_db()
    assert case.first_response_at == now


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd), that can be told to refuse for a while."""
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.received, self.down = [], threading.Event()

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd names it
            if self.down.is_set():
                return "421 Service not available, try again later"
            self.received.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_the_outbox_retries_while_the_mail_server_is_down_then_sends_once(
    sender, contract, now, settings, smtp_server
):
    handler, port = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.CELERY_TASK_ALWAYS_EAGER = False
    handler.down.set()
    case = _case_by_mail(sender, now)
    run = mail.send_due_mail(now=now)
    ack = OutboundMail.objects.get(case=case)
    assert (run.retried, ack.status, ack.attempts) == (1, "pending", 1)
    assert ack.next_attempt_at == now + timedelta(minutes=1)
    assert mail.send_due_mail(now=now + timedelta(seconds=30)).sent == 0  # not due yet
    handler.down.clear()
    assert mail.send_due_mail(now=now + timedelta(minutes=1)).sent == 1
    assert mail.send_due_mail(now=now + timedelta(minutes=5)).sent == 0
    assert len(handler.received) == 1
    ack.refresh_from_db()
    assert ack.status == "sent"
    assert case.events.filter(kind=CaseEvent.Kind.MAIL_SENT).count() == 1


def test_a_permanent_refusal_is_shown_on_the_case(sender, contract, now, settings, smtp_server):
    _handler, port = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.CELERY_TASK_ALWAYS_EAGER = False
    case = _case_by_mail(sender, now)
    OutboundMail.objects.filter(case=case).update(attempts=len(mail.SEND_BACKOFF_MINUTES) - 1)
    settings.EMAIL_PORT = port + 1 if port < 65535 else port - 1  # nobody listens there
    mail.send_due_mail(now=now)
    assert OutboundMail.objects.get(case=case).status == "failed"
    assert case.events.filter(kind=CaseEvent.Kind.MAIL_FAILED).exists()


@pytest.fixture
def smtp_that_never_answers(settings):
    """A mail server that takes connections and never says a word: any sending in a request
    would hang there (EMAIL_TIMEOUT) and be seen in its backlog."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        listener.setblocking(False)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = listener.getsockname()
        yield listener


def test_a_note_for_the_customer_never_waits_for_the_mail_server_in_the_request(
    operator_api,
    sender,
    contract,
    now,
    operator,
    smtp_that_never_answers,
    django_capture_on_commit_callbacks,
):
    from config.celery import app as celery_app

    case = _case_by_mail(sender, now)
    services.assign_case(actor=operator, case=case, assignee=operator, now=now)
    celery_app.conf.task_always_eager = False  # as in production: a worker sends, later
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = operator_api.post(
                f"/api/v1/cases/{case.reference}/notes/",
                {"body": "La SIM è bloccata.", "visibility": "customer"},
                format="json",
            )
    finally:
        celery_app.conf.task_always_eager = True
    assert response.status_code == 201, response.content
    with pytest.raises(BlockingIOError):
        smtp_that_never_answers.accept()  # the request never contacted the mail server
    note_mail = OutboundMail.objects.get(case=case, kind="note")
    assert (note_mail.status, note_mail.attempts, note_mail.sent_at) == ("pending", 0, None)


# --- API and pages ---------------------------------------------------------------------------


def test_the_api_takes_a_raw_message(admin_api, sender, contract):
    response = admin_api.generic(
        "POST", "/api/v1/mail/inbound/", message(), content_type="message/rfc822"
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["outcome"] == "case_opened"
    assert body["reference"].startswith("CS-")


def test_the_api_is_for_administrators(operator_api, sender, contract):
    response = operator_api.generic(
        "POST", "/api/v1/mail/inbound/", message(), content_type="message/rfc822"
    )
    assert response.status_code == 403
    assert not InboundMail.objects.exists()


def test_triage_opens_a_case_for_the_caller_the_operator_found(
    client, operator, contract, now, end_user
):
    receive(message(sender="altro.indirizzo@example.it"), now)
    item = InboundMail.objects.get()
    client.force_login(operator)
    page = client.get(f"/care/mail/{item.id}/", {"query": end_user.email})
    assert page.status_code == 200
    assert len(page.context["matches"]) == 1
    response = client.post(
        f"/care/mail/{item.id}/case/",
        {"end_user": end_user.id, "contract": contract.code, "category": "sim-lost"},
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response.url == f"/care/cases/{case.reference}/"
    item.refresh_from_db()
    assert (item.outcome, item.triage, item.triaged_by, item.case) == (
        "case_opened",
        "assigned",
        operator,
        case,
    )
    assert AccessLog.objects.filter(route="care:mail-triage-item").exists()


def test_triage_refuses_a_caller_not_found_by_a_search(client, operator, contract, now, end_user):
    receive(message(sender="altro.indirizzo@example.it"), now)
    item = InboundMail.objects.get()
    client.force_login(operator)
    client.post(
        f"/care/mail/{item.id}/case/",
        {"end_user": end_user.id, "contract": contract.code, "category": "sim-lost"},
    )
    assert not Case.objects.exists()


def test_a_discarded_message_is_recorded(client, operator, contract, now):
    receive(message(sender="spam@example.it"), now)
    item = InboundMail.objects.get()
    client.force_login(operator)
    client.post(f"/care/mail/{item.id}/discard/", {"note": "pubblicità"})
    item.refresh_from_db()
    assert (item.triage, item.triaged_by, item.triage_note) == ("discarded", operator, "pubblicità")


def test_an_uploaded_eml_takes_the_same_path(client, operator, sender, contract):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(operator)
    response = client.post(
        "/care/mail/", {"message": SimpleUploadedFile("m.eml", message(), "message/rfc822")}
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response.url == f"/care/cases/{case.reference}/"


def test_retention_anonymises_the_mail_of_a_case(sender, contract, now):
    from care.retention import REMOVED, anonymise_cases

    case = _case_by_mail(sender, now)
    anonymise_cases([case.id], now=now, why="retention")
    inbound, outbound = InboundMail.objects.get(), OutboundMail.objects.get()
    assert (bytes(inbound.raw), inbound.sender, outbound.to_address) == (b"", REMOVED, REMOVED)
    assert "Bianchi" not in inbound.text + outbound.body


def test_mail_is_written_in_the_end_users_language_with_the_contracts_signature(
    sender, contract, now
):
    sender.language = "en"
    sender.save(update_fields=["language"])
    contract.mail_signature = "Customer care, Regione Siciliana"
    contract.save(update_fields=["mail_signature"])
    case = _case_by_mail(sender, now)
    ack = OutboundMail.objects.get(case=case)
    assert ack.body.startswith("Hello,")
    assert "Customer care, Regione Siciliana" in ack.body


def test_a_contract_may_acknowledge_phone_cases_by_mail(end_user, contract, now, operator):
    contract.acknowledge_phone_cases = True
    contract.save(update_fields=["acknowledge_phone_cases"])
    case = services.open_case(
        actor=operator,
        request=services.CaseRequest(
            contract_code=contract.code,
            category_code="sim-lost",
            channel="phone",
            subject="SIM",
            description="Persa la SIM",
            end_user_id=end_user.id,
        ),
        now=now,
    )
    assert OutboundMail.objects.get(case=case).kind == "ack"


def _with_attachments(*files, subject="SIM smarrita", message_id="<att@example.it>", **headers):
    msg = EmailMessage()
    msg["From"] = "utente@example.it"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("In allegato la denuncia.")
    for name, content, maintype, subtype in files:
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_attachments_follow_the_case_upload_rules(sender, contract, now):
    raw = _with_attachments(
        ("denuncia.pdf", PDF, "application", "pdf"),
        ("finto.pdf", b"MZ\x90\x00 not a pdf", "application", "pdf"),
        ("virus.exe", b"MZ\x90\x00", "application", "octet-stream"),
    )
    case = Case.objects.get(reference=receive(raw, now).reference)
    note = Note.objects.get(case=case, visibility="inbound")
    assert [a.original_name for a in note.attachments.all()] == ["denuncia.pdf"]
    event = case.events.get(kind=CaseEvent.Kind.MAIL_RECEIVED)
    assert event.detail["refused_attachments"] == ["finto.pdf", "virus.exe"]


def test_a_reply_keeps_its_attachments(sender, contract, now):
    case = _case_by_mail(sender, now)
    raw = _with_attachments(
        ("foto.pdf", PDF, "application", "pdf"), subject=f"Re: [{case.reference}]"
    )
    receive(raw, now + timedelta(hours=1))
    note = Note.objects.get(case=case, visibility="inbound")
    assert note.attachments.count() == 1


def test_staff_cannot_write_a_note_as_if_from_the_customer(operator_api, sender, contract, now):
    case = _case_by_mail(sender, now)
    response = operator_api.post(
        f"/api/v1/cases/{case.reference}/notes/",
        {"body": "Finto", "visibility": "inbound", "override_reason": "prova"},
        format="json",
    )
    assert response.status_code == 400
    assert not Note.objects.filter(case=case, body="Finto").exists()


def test_resolving_a_major_incident_tells_each_end_user_once_by_mail(
    sender, contract, now, supervisor, django_capture_on_commit_callbacks
):
    from care import incidents

    case = _case_by_mail(sender, now)
    incident = incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(
            title="Rete mobile assente a Palermo",
            services=["mobile"],
            started_at=now,
            public_message="Il guasto alla cella è stato riparato.",
        ),
        now=now,
    )
    incidents.link_cases(actor=supervisor, incident=incident, references=[case.reference])
    with django_capture_on_commit_callbacks(execute=True):
        incidents.resolve_incident(actor=supervisor, incident=incident, now=now)
    notice = OutboundMail.objects.get(case=case, kind="resolution")
    assert "Il guasto alla cella è stato riparato." in notice.body
    assert notice.status == "sent"
    assert len(django_mail.outbox) >= 1
    with pytest.raises(incidents.IncidentAlreadyResolved):
        incidents.resolve_incident(actor=supervisor, incident=incident, now=now)
    assert OutboundMail.objects.filter(case=case, kind="resolution").count() == 1
