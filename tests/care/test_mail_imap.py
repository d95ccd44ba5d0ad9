"""The mailboxes against a real IMAP server (Debian's Dovecot, tests/imap_server.py): messages
delivered to the inbox open cases, land replies and go to triage, are flagged \\Seen only
once processed, and a poll that dies in the middle of a batch is resumed by the next ones
with every message taken exactly once."""

from datetime import timedelta
from email.message import EmailMessage

import pytest

from care import mailboxes, services
from care.models import Case, InboundMail, Note, OutboundMail
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db
Outcome = InboundMail.Outcome


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.MAILBOX_CATEGORIES = {"*": "sim-lost"}
    settings.MAIL_DOMAIN = "presidio.test"


def message(sender: str, message_id: str, subject: str = "SIM smarrita", **headers) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "assistenza@presidio.test"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Ho perso la SIM ieri sera, potete bloccarla?")
    return msg.as_bytes()


def callers(contract, count: int) -> list:
    return [
        EndUserFactory(client=contract.client, email=f"cliente{i}@example.it") for i in range(count)
    ]


def poll(now):
    (box,) = mailboxes.configured()
    return mailboxes.poll(box, now=now)


def test_messages_delivered_over_imap_open_cases_land_replies_and_are_flagged_seen(
    imap_mailbox, contract, now
):
    (caller,) = callers(contract, 1)
    imap_mailbox.deliver(
        message(caller.email, "<new@example.it>"),
        message("sconosciuto@example.it", "<unknown@example.it>", subject="Informazioni"),
        message("ufficio@example.it", "<ooo@example.it>", Auto_Submitted="auto-replied"),
    )
    assert poll(now) == 3
    case = Case.objects.get()
    assert (case.channel, case.end_user) == ("email", caller)
    assert InboundMail.objects.get(message_id="<unknown@example.it>").outcome == Outcome.TRIAGE
    assert InboundMail.objects.get(message_id="<ooo@example.it>").outcome == Outcome.IGNORED
    assert imap_mailbox.count("UNSEEN") == 0

    ack = OutboundMail.objects.get(case=case)
    imap_mailbox.deliver(
        message(caller.email, "<reply@example.it>", subject="Re: SIM", In_Reply_To=ack.message_id)
    )
    assert poll(now + timedelta(minutes=1)) == 1
    assert Note.objects.filter(case=case, visibility=Note.Visibility.FROM_CUSTOMER).count() == 1

    assert poll(now + timedelta(minutes=2)) == 0  # everything read: nothing changes
    assert (Case.objects.count(), InboundMail.objects.count()) == (1, 4)
    assert imap_mailbox.count("SEEN") == 4


class WorkerKilled(BaseException):
    """What the poll sees of a worker killed with SIGKILL: it stops where it is."""


def test_a_poll_killed_mid_batch_is_resumed_with_every_message_taken_once(
    imap_mailbox, contract, now, monkeypatch
):
    first, *others = callers(contract, 5)
    imap_mailbox.deliver(message(first.email, "<first@example.it>"))
    poll(now)
    case = Case.objects.get()
    replies = [
        message(first.email, f"<reply{i}@example.it>", subject=f"Re: [{case.reference}]")
        for i in range(2)
    ]
    news = [message(c.email, f"<new{i}@example.it>") for i, c in enumerate(others)]
    imap_mailbox.deliver(replies[0], *news[:2], replies[1], *news[2:])

    # The worker dies in the middle of the 2nd new case: its claim is left "processing".
    real_open_case, opened = services.open_case, []

    def open_case_then_die(**kwargs):
        if len(opened) == 1:
            raise WorkerKilled
        opened.append(kwargs)
        return real_open_case(**kwargs)

    monkeypatch.setattr(services, "open_case", open_case_then_die)
    with pytest.raises(WorkerKilled):
        poll(now + timedelta(minutes=1))
    monkeypatch.setattr(services, "open_case", real_open_case)
    assert Case.objects.count() == 2
    assert InboundMail.objects.filter(outcome=Outcome.PROCESSING).count() == 1

    # The next poll, a minute later, leaves the message still claimed by the dead worker
    # unread (never flagged \Seen as if it had been processed) and takes the others.
    assert poll(now + timedelta(minutes=2)) == 3
    assert imap_mailbox.count("UNSEEN") == 1
    # Once the claim is stale, a poll takes it over.
    assert poll(now + timedelta(minutes=10)) == 1
    assert poll(now + timedelta(minutes=11)) == 0

    assert imap_mailbox.count("UNSEEN") == 0
    assert Case.objects.count() == 5  # one per new message, none twice
    assert sorted(Case.objects.values_list("end_user__email", flat=True)) == sorted(
        c.email for c in [first, *others]
    )
    assert Note.objects.filter(case=case, visibility=Note.Visibility.FROM_CUSTOMER).count() == 2
    assert InboundMail.objects.count() == 7
    assert not InboundMail.objects.filter(outcome=Outcome.PROCESSING).exists()


def test_a_maildir_message_still_claimed_stays_unread_until_taken_over(
    tmp_path, settings, contract, now
):
    """The demo's maildir follows the same rule as IMAP."""
    import mailbox as maildir_lib

    (caller,) = callers(contract, 1)
    folder = maildir_lib.Maildir(tmp_path / "maildir", create=True)
    folder.add(message(caller.email, "<held@example.it>"))
    settings.MAILBOXES = [f"demo=maildir://{tmp_path / 'maildir'}"]
    InboundMail.objects.create(  # claimed by a worker that died a minute ago
        message_id="<held@example.it>",
        mailbox="demo",
        received_at=now,
        outcome=Outcome.PROCESSING,
        claimed_at=now - timedelta(minutes=1),
    )
    assert poll(now) == 0
    assert len(list((tmp_path / "maildir" / "new").iterdir())) == 1
    assert poll(now + timedelta(minutes=5)) == 1
    assert Case.objects.get().end_user == caller
    assert not list((tmp_path / "maildir" / "new").iterdir())
    assert poll(now + timedelta(minutes=6)) == 0
