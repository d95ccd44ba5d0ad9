"""The mailbox poll in a real worker against a real IMAP server (Dovecot): a worker killed with
SIGKILL in the middle of a batch, then the next polls: every message taken exactly once.

Needs the PostgreSQL + Redis run (`scripts/test.sh postgres`) and Dovecot.
"""

import os
import signal
from datetime import timedelta

import psycopg
import pytest
from django.utils import timezone

from care import mail, mailboxes
from care.models import Case, InboundMail, Note
from care.tasks import poll_mailboxes_task
from config.celery import app as celery_app
from tests.care.test_mail_imap import message
from tests.factories import EndUserFactory
from tests.worker.conftest import worker_database_url
from tests.worker.test_reliability import lock_waiters, wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def not_eager():
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def worker_mailbox(imap_mailbox, settings, monkeypatch):
    """The worker process reads its configuration from the environment, as in production."""
    monkeypatch.setenv("PRESIDIO_MAILBOXES", settings.MAILBOXES[0])
    monkeypatch.setenv("PRESIDIO_MAIL_CATEGORY", "sim-lost")
    settings.MAILBOX_CATEGORIES = {"*": "sim-lost"}
    return imap_mailbox


def test_a_worker_killed_mid_poll_leaves_every_message_to_be_taken_exactly_once(
    worker_process, not_eager, worker_mailbox, contract
):
    first, *others = (
        EndUserFactory(client=contract.client, email=f"cliente{i}@example.it") for i in range(5)
    )
    opened = mail.receive_mail(
        message(first.email, "<first@example.it>"), mailbox="assistenza", now=timezone.now()
    )
    case = Case.objects.get(reference=opened.reference)
    worker_mailbox.deliver(
        message(others[0].email, "<new0@example.it>"),
        message(others[1].email, "<new1@example.it>"),
        message(first.email, "<reply@example.it>", subject=f"Re: [{case.reference}]"),
        message(others[2].email, "<new2@example.it>"),
        message(others[3].email, "<new3@example.it>"),
    )
    holder = psycopg.connect(worker_database_url(), autocommit=False)
    try:
        # The reply waits for its case, held here: the worker is killed in the middle of it,
        # two new cases committed before it, two messages still to read after it. (NO KEY:
        # the acknowledgement's timeline event may still reference the case meanwhile.)
        holder.execute("SELECT id FROM care_case WHERE id = %s FOR NO KEY UPDATE", [case.id])
        first_worker = worker_process()
        poll_mailboxes_task.delay()
        assert wait_for(lambda: lock_waiters() > 0)
        os.kill(first_worker.pid, signal.SIGKILL)
        first_worker.wait(timeout=30)
    finally:
        holder.rollback()
        holder.close()
    assert wait_for(lambda: lock_waiters() == 0)
    assert Case.objects.count() == 3
    assert InboundMail.objects.filter(outcome=InboundMail.Outcome.PROCESSING).count() == 1
    assert worker_mailbox.count("UNSEEN") == 3

    # Beat's next poll, in a new worker: the message the dead worker held stays unread.
    worker_process()
    poll_mailboxes_task.delay()
    assert wait_for(lambda: Case.objects.count() == 5 and worker_mailbox.count("UNSEEN") == 1)
    # Once the claim is stale, a poll takes it over; polling again changes nothing.
    (box,) = mailboxes.configured()
    assert mailboxes.poll(box, now=timezone.now() + timedelta(minutes=6)) == 1
    assert mailboxes.poll(box, now=timezone.now() + timedelta(minutes=7)) == 0

    assert worker_mailbox.count("UNSEEN") == 0
    assert Case.objects.count() == 5
    assert Note.objects.filter(case=case, visibility=Note.Visibility.FROM_CUSTOMER).count() == 1
    assert InboundMail.objects.count() == 6
    assert not InboundMail.objects.filter(outcome=InboundMail.Outcome.PROCESSING).exists()
