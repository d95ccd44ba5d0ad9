"""The embedded broker of `make run`: kombu's filesystem transport, made safe for a worker.

Upstream, a publisher creates the message file under its final name and then writes it, and
a consumer moves any file with that name and reads it: a consumer polling at the wrong instant
reads an empty or half-written file, and the JSON error it raises kills the worker. Here

- a publisher writes the message under a hidden staging name in the same folder, flushes it and
  renames it into place (`os.replace` is atomic on one filesystem): a message file is either
  absent or whole;
- a consumer claims a file by renaming it into its own `claimed/` folder on the same
  filesystem (atomic: exactly one consumer wins; upstream moved it to `/tmp`, which may be
  another filesystem, where `shutil.move` copies a half-written file);
- a claimed file that cannot be decoded is never raised out of the consumer loop: it goes back
  to the queue for the next poll (a publisher of an older release may still be writing it);
  once unreadable for `UNREADABLE_GRACE_SECONDS` it is moved to `rejected/` and logged.

Selected by `CELERY_BROKER_TRANSPORT` when `CELERY_BROKER_URL` is `filesystem://`.
"""

import contextlib
import logging
import os
import tempfile
import uuid
from functools import cached_property
from pathlib import Path
from time import monotonic

from kombu.transport import filesystem
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

STAGING = ".staging"
CLAIMED = "claimed"
REJECTED = "rejected"
UNREADABLE_GRACE_SECONDS = 30.0


class UnreadableMessage(ValueError):
    """A message file whose body is not (yet) a whole JSON message."""


def decode_message(body: bytes) -> dict:
    try:
        payload = loads(bytes_to_str(body))
    except ValueError as error:
        raise UnreadableMessage(str(error)) from error
    if not isinstance(payload, dict):
        raise UnreadableMessage("not a message")
    return payload


def write_atomically(folder: str, filename: str, body: bytes) -> None:
    """`folder/filename` appears whole or not at all."""
    staging = Path(folder) / STAGING
    staging.mkdir(exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=staging, prefix=f"{filename}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(body)
        os.replace(temporary, Path(folder) / filename)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for folder in {self.data_folder_in, self.data_folder_out}:
            Path(folder).mkdir(parents=True, exist_ok=True)
        self._unreadable_since: dict[str, float] = {}

    def _put(self, queue, payload, **kwargs):
        filename = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        try:
            write_atomically(self.data_folder_out, filename, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {filename!r} to directory") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            payload = self._claim_and_read(filename)
            if payload is not None:
                return payload
        raise Empty()

    def _claim_and_read(self, filename: str) -> dict | None:
        """The message, or None when another consumer won it or it cannot be read (yet)."""
        queued = Path(self.data_folder_in) / filename
        claimed = self._claimed_folder / filename
        try:
            os.rename(queued, claimed)
        except OSError:
            return None  # another consumer claimed it first
        try:
            payload = decode_message(claimed.read_bytes())
        except (OSError, UnreadableMessage) as error:
            self._set_aside(claimed, queued, error)
            return None
        self._unreadable_since.pop(filename, None)
        if self.store_processed:
            os.replace(claimed, Path(self.processed_folder) / filename)
        else:
            claimed.unlink(missing_ok=True)
        return payload

    def _set_aside(self, claimed: Path, queued: Path, error: Exception) -> None:
        """Back to the queue while young; aside once unreadable for the grace period. Age is
        counted from this consumer's first sight, on the monotonic clock: no file times."""
        first_seen = self._unreadable_since.setdefault(claimed.name, monotonic())
        with contextlib.suppress(OSError):
            if monotonic() - first_seen < UNREADABLE_GRACE_SECONDS:
                os.rename(claimed, queued)  # left for the next poll
                return
            rejected = self._subfolder(REJECTED) / claimed.name
            os.rename(claimed, rejected)
            self._unreadable_since.pop(claimed.name, None)
            logger.error(
                "broker: unreadable message %s moved to %s (%s)",
                claimed.name,
                rejected.parent,
                error,
            )

    @cached_property
    def _claimed_folder(self) -> Path:
        return self._subfolder(CLAIMED)

    def _subfolder(self, name: str) -> Path:
        folder = Path(self.data_folder_in) / name
        folder.mkdir(exist_ok=True)
        return folder


class Transport(filesystem.Transport):
    Channel = Channel
