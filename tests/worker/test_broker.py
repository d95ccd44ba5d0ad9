"""The embedded broker (`config.broker`): a half-written or broken message file never kills a
worker, and under many publishers and competing real workers every message runs exactly once.

The race test needs no database: its app (`tests.worker.broker_race`) only appends to a file.
"""

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from kombu import Connection

from config import broker

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[2]
PUBLISHERS = 6
MESSAGES_PER_PUBLISHER = 500
WORKERS = 2


@pytest.fixture
def channel(tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(tmp_path / "control"),
    }
    with Connection(
        "filesystem://", transport=broker.Transport, transport_options=options
    ) as connection:
        yield connection.default_channel


def test_a_published_message_is_read_back_whole(channel):
    channel._put("q", {"body": "é" * 10_000})
    assert channel._get("q") == {"body": "é" * 10_000}
    assert not list(Path(channel.data_folder_in).glob("*.msg"))


def test_a_message_file_never_appears_before_it_is_whole(channel, monkeypatch):
    """The reader's view while the publisher writes: nothing under a message name."""
    seen_while_writing = []
    real_fdopen = os.fdopen

    class SpyFile:
        def __init__(self, file):
            self.file = file

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.file.__exit__(*exc)

        def write(self, body):
            self.file.write(body[:10])
            seen_while_writing.extend(Path(channel.data_folder_in).glob("*.msg"))
            self.file.write(body[10:])

    monkeypatch.setattr(broker.os, "fdopen", lambda *a, **k: SpyFile(real_fdopen(*a, **k)))
    channel._put("q", {"body": "x" * 100})
    assert seen_while_writing == []
    assert channel._get("q") == {"body": "x" * 100}


def test_a_half_written_message_is_left_for_the_next_poll(channel):
    """What an older publisher leaves while it writes: not raised, not lost, read once whole."""
    path = Path(channel.data_folder_in) / "0_a.q.msg"
    path.write_bytes(b'{"body": "hal')
    with pytest.raises(broker.Empty):
        channel._get("q")
    assert path.exists()
    path.write_bytes(b'{"body": "half"}')
    assert channel._get("q") == {"body": "half"}


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_message_that_never_becomes_readable_is_moved_aside_and_logged(
    channel, content, caplog, monkeypatch
):
    path = Path(channel.data_folder_in) / "0_a.q.msg"
    path.write_bytes(content)
    with pytest.raises(broker.Empty):
        channel._get("q")  # first sight: left for the next poll
    assert path.read_bytes() == content
    monkeypatch.setattr(broker, "UNREADABLE_GRACE_SECONDS", 0)
    channel._put("q", {"body": "next"})
    with caplog.at_level(logging.ERROR, logger="config.broker"):
        assert channel._get("q") == {"body": "next"}
    assert not path.exists()
    assert (Path(channel.data_folder_in) / broker.REJECTED / path.name).read_bytes() == content
    assert "unreadable message 0_a.q.msg" in caplog.text


def test_two_consumers_never_claim_the_same_message(channel, tmp_path):
    with Connection(
        "filesystem://", transport=broker.Transport, transport_options=channel.transport_options
    ) as other:
        rival = other.default_channel
        for number in range(50):
            channel._put("q", {"n": number})
        got = [consumer._get("q")["n"] for consumer in [channel, rival] * 25]
    assert sorted(got) == list(range(50))


def test_publishers_racing_real_workers_lose_nothing_and_kill_no_worker(tmp_path):
    """The crash of issue #17, reproduced at scale: 6 publisher processes write 3,000 messages
    while 2 real workers poll the same folder every 50 ms."""
    (tmp_path / "queue").mkdir()
    env = {
        **os.environ,
        "PRESIDIO_RACE_FOLDER": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    workers = [
        subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "tests.worker.broker_race", "worker",
                "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel=WARNING", f"--hostname=race{index}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(WORKERS)
    ]  # fmt: skip
    try:
        publishers = [
            subprocess.Popen(
                [
                    sys.executable, "-m", "tests.worker.broker_race", "publish",
                    str(index * MESSAGES_PER_PUBLISHER), str(MESSAGES_PER_PUBLISHER),
                ],
                cwd=ROOT,
                env=env,
            )
            for index in range(PUBLISHERS)
        ]  # fmt: skip
        assert [publisher.wait(timeout=120) for publisher in publishers] == [0] * PUBLISHERS
        total = PUBLISHERS * MESSAGES_PER_PUBLISHER
        executed = tmp_path / "executed.log"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if executed.exists() and executed.read_text().count("\n") >= total:
                break
            if any(worker.poll() is not None for worker in workers):
                break
            time.sleep(0.2)
        alive = [worker.poll() is None for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        errors = [worker.communicate(timeout=30)[1] for worker in workers]
    assert alive == [True] * WORKERS, errors
    assert not any("Unrecoverable error" in error for error in errors), errors
    runs = Counter(int(line) for line in executed.read_text().split())
    assert set(runs) == set(range(total))  # nothing lost
    assert max(runs.values()) == 1  # nothing run twice
    assert not list((tmp_path / "queue").glob("*.msg"))
    assert not list((tmp_path / "queue" / broker.REJECTED).glob("*"))


def test_a_queue_binds_to_an_exchange_table_created_but_not_yet_written(channel):
    """What upstream's creator leaves for an instant: an empty table file."""
    table = channel._exchange_file("jobs")
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_bytes(b"")
    channel._queue_bind("jobs", "jobs", None, "jobs")
    channel._queue_bind("jobs", "jobs", None, "jobs")  # twice: one binding
    assert [row.queue for row in channel.get_table("jobs")] == ["jobs"]


def test_a_table_that_never_becomes_readable_is_a_channel_error_not_a_crash(channel, monkeypatch):
    monkeypatch.setattr(broker, "TABLE_READ_TRIES", 2)
    table = channel._exchange_file("jobs")
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_bytes(b'[["jobs", "", "jo')
    with pytest.raises(broker.filesystem.ChannelError):
        channel.get_table("jobs")
    channel._queue_bind("jobs", "jobs", None, "jobs")  # the next bind rebuilds it
    assert [row.queue for row in channel.get_table("jobs")] == ["jobs"]


def test_unbinding_a_queue_leaves_the_others(channel):
    channel._queue_bind("jobs", "a", None, "a")
    channel._queue_bind("jobs", "b", None, "b")
    channel._delete("a", "jobs", "a", None)
    assert [row.queue for row in channel.get_table("jobs")] == ["b"]


def test_a_channel_without_configured_folders_creates_none_where_it_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Connection("filesystem://", transport=broker.Transport) as connection:
        connection.default_channel  # noqa: B018 -- opening it is what is under test
    assert list(tmp_path.iterdir()) == []
