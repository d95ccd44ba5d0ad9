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
  once unreadable for `UNREADABLE_GRACE_SECONDS` it is moved to `rejected/` and logged;
- an exchange's table of bindings (which queues it routes to) is created without truncation
  and read, changed and rewritten under its exclusive lock: upstream created it empty and
  locked it after, so a process binding or publishing at that instant read an empty table and
  raised JSONDecodeError (a publisher, or a worker starting, died of it). A reader that still
  meets the instant of creation waits for the writer instead of routing to no queue.

Selected by `CELERY_BROKER_TRANSPORT` when `CELERY_BROKER_URL` is `filesystem://`.
"""

import contextlib
import logging
import os
import tempfile
import time
import uuid
from functools import cached_property
from pathlib import Path
from time import monotonic

from kombu.transport import filesystem, virtual
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

STAGING = ".staging"
CLAIMED = "claimed"
REJECTED = "rejected"
UNREADABLE_GRACE_SECONDS = 30.0
TABLE_READ_TRIES = 50  # 10 ms apart: a table being created is written within them


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
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The configured folders only: kombu's defaults are relative to whatever directory the
        # process runs in, and creating them there left stray data_in/ and data_out/ behind.
        options = self.transport_options
        for key in ("data_folder_in", "data_folder_out"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)
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

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        for _try in range(TABLE_READ_TRIES):
            try:
                body = _read_locked(file)
            except FileNotFoundError:
                return []
            except OSError as exc:
                raise filesystem.ChannelError(f"Cannot open {file}") from exc
            try:
                return [filesystem.exchange_queue_t(*row) for row in loads(bytes_to_str(body))]
            except (ValueError, TypeError):
                time.sleep(0.01)  # created, not yet written: its creator holds or takes the lock
        raise filesystem.ChannelError(f"Unreadable exchange table {file}")

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: table if binding in table else [binding, *table])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # The virtual channel's bookkeeping; upstream's unlocked edit of the table is replaced.
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: [row for row in table if row != binding])

    def _change_table(self, exchange, change) -> None:
        """Read, change and write an exchange's table under its exclusive lock; the file is
        created without truncation, so nobody ever reads a table that was emptied."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
            with os.fdopen(fd, "r+b", buffering=0) as handle:
                filesystem.lock(handle, filesystem.LOCK_EX)
                try:
                    table = _decoded_table(handle.read())
                    changed = change(table)
                    if changed != table:
                        handle.seek(0)
                        handle.write(str_to_bytes(dumps(changed)))
                        handle.truncate()
                finally:
                    filesystem.unlock(handle)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot open {file}") from exc

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


def _read_locked(file: Path) -> bytes:
    with open(file, "rb") as handle:
        filesystem.lock(handle, filesystem.LOCK_SH)
        try:
            return handle.read()
        finally:
            filesystem.unlock(handle)


def _decoded_table(body: bytes) -> list:
    """The bindings in a table file; an empty or torn one (left by an older release) is
    rebuilt by the binds that follow, since every consumer binds its queues when it starts."""
    if not body:
        return []
    try:
        return [filesystem.exchange_queue_t(*row) for row in loads(bytes_to_str(body))]
    except (ValueError, TypeError):
        logger.warning("broker: unreadable exchange table rebuilt")
        return []


class Transport(filesystem.Transport):
    Channel = Channel
