"""Reading the mailboxes (beat, every minute): IMAP with imap-tools, or a local maildir for the
demo. Each message goes through `care.mail.receive_mail`; only then is it marked as read
(IMAP \\Seen, or moved to the maildir's `cur`). A crash mid-batch leaves the rest unread: the
next poll reads them again, and Message-IDs already processed change nothing. A message still
claimed by a worker (or left half-done by a dead one) is not marked read: a later poll takes
it over once the claim is stale.

Configuration (settings.MAILBOXES, from PRESIDIO_MAILBOXES): `name=imaps://user@host:993/INBOX`,
`name=imap://user@127.0.0.1:1143/INBOX` (plain IMAP, loopback only) or `name=maildir:///path`;
the password comes from PRESIDIO_MAILBOX_<NAME>_PASSWORD, never from the database.
"""

import ipaddress
import logging
import mailbox as maildir_lib
import os
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from django.conf import settings

from care import mail

logger = logging.getLogger(__name__)
BATCH = 200


@dataclass(frozen=True)
class Mailbox:
    name: str
    scheme: str
    host: str
    port: int
    user: str
    folder: str
    path: str

    @property
    def password(self) -> str:
        return os.environ.get(f"PRESIDIO_MAILBOX_{self.name.upper()}_PASSWORD", "")


def configured() -> list[Mailbox]:
    boxes = []
    for entry in settings.MAILBOXES:
        name, _sep, url = entry.partition("=")
        parts = urlsplit(url.strip())
        boxes.append(
            Mailbox(
                name=name.strip(),
                scheme=parts.scheme,
                host=parts.hostname or "",
                port=parts.port or (993 if parts.scheme == "imaps" else 143),
                user=unquote(parts.username or ""),
                folder=unquote(parts.path.lstrip("/")) or "INBOX",
                path=unquote(parts.path),
            )
        )
    return boxes


def poll_all(*, now: datetime | None = None) -> dict:
    read = {}
    for box in configured():
        try:
            read[box.name] = poll(box, now=now)
        except Exception as error:  # one mailbox down must not stop the others
            logger.warning("mailbox %s not read: %s", box.name, type(error).__name__)
            read[box.name] = -1
    return read


def poll(box: Mailbox, *, now: datetime | None = None) -> int:
    if box.scheme == "maildir":
        return _poll_maildir(box, now=now)
    if box.scheme == "imap" and not ipaddress.ip_address(_address(box.host)).is_loopback:
        raise ValueError("plain IMAP is for loopback servers only: use imaps://")
    return _poll_imap(box, now=now)


def _address(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else host


def _poll_imap(box: Mailbox, *, now) -> int:
    from imap_tools import AND, MailBox, MailBoxUnencrypted

    client = MailBox if box.scheme == "imaps" else MailBoxUnencrypted
    handled = 0
    with client(box.host, port=box.port).login(box.user, box.password, box.folder) as imap:
        uids = imap.uids(AND(seen=False))[:BATCH]
        for uid in uids:
            settled = True
            for message in imap.fetch(AND(uid=uid), mark_seen=False, bulk=False):
                received = mail.receive_mail(message.obj.as_bytes(), mailbox=box.name, now=now)
                settled = received.settled
            if settled:
                imap.flag(uid, "\\Seen", True)
                handled += 1
    return handled


def _poll_maildir(box: Mailbox, *, now) -> int:
    folder = maildir_lib.Maildir(box.path, factory=None, create=True)
    handled = 0
    for key in list(folder.iterkeys())[:BATCH]:
        message = folder.get_message(key)
        if "S" in message.get_flags():
            continue
        if not mail.receive_mail(message.as_bytes(), mailbox=box.name, now=now).settled:
            continue
        message.add_flag("S")
        message.set_subdir("cur")
        folder[key] = message
        handled += 1
    return handled
