"""`config.tasks.enqueue`: a request never fails, nor waits on every message, because the
broker is down; the beat sweeps heal what was not sent (DESIGN.md §10)."""

import logging
import os

import pytest
from kombu.exceptions import OperationalError

from config import tasks


class FakeTask:
    name = "tests.fake"

    def __init__(self, error=None):
        self.error, self.sent = error, []

    def apply_async(self, args):
        self.sent.append(args)
        if self.error:
            raise self.error


def test_a_message_is_sent():
    task = FakeTask()
    assert tasks.enqueue(task, 7, "x") is True
    assert task.sent == [(7, "x")]


def test_a_broker_down_is_tried_once_then_left_alone_for_a_while(monkeypatch, caplog):
    clock = [1000.0]
    monkeypatch.setattr(tasks.time, "monotonic", lambda: clock[0])
    down = FakeTask(OperationalError("Error 111 connecting to 127.0.0.1:6379"))
    with caplog.at_level(logging.WARNING, logger="config.tasks"):
        assert tasks.enqueue(down, 1) is False
        assert tasks.enqueue(down, 2) is False  # not tried: no second wait on the broker
        clock[0] += tasks.BROKER_BACKOFF_SECONDS - 1
        assert tasks.enqueue(down, 3) is False
    assert down.sent == [(1,)]
    assert "beat's sweep heals it" in caplog.text
    clock[0] += 2  # the window is over: tried again, and the broker is back
    up = FakeTask()
    assert tasks.enqueue(up, 4) is True
    assert up.sent == [(4,)]


def test_a_task_failing_in_eager_mode_does_not_mark_the_broker_down():
    failing = FakeTask(RuntimeError("the task itself failed"))
    assert tasks.enqueue(failing, 1) is False
    assert tasks.enqueue(failing, 2) is False
    assert failing.sent == [(1,), (2,)]  # both tried


@pytest.mark.django_db(transaction=True)
def test_after_commit_only_and_never_raising_into_the_request():
    from django.db import transaction

    down = FakeTask(OperationalError("down"))
    with transaction.atomic():
        tasks.enqueue_after_commit(down, 1)
        assert down.sent == []
    assert down.sent == [(1,)]  # sent at commit, the failure swallowed
    try:
        with transaction.atomic():
            tasks.enqueue_after_commit(down, 2)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert down.sent == [(1,)]


def test_every_task_a_service_triggers_by_name_is_registered():
    """Services name the tasks they trigger by import path (they never import the tasks that
    import them): in a fresh process, as a web process is (it never autodiscovers tasks),
    each path leads to a task registered under that same name."""
    import json
    import re
    import subprocess
    import sys
    from pathlib import Path

    path_of_task = re.compile(r'"((?:care|contracts|routing|reports|config)\.[\w.]+_task)"')
    root = Path(__file__).resolve().parents[2]
    named = sorted(
        {
            name
            for app_dir in ("config", "contracts", "care", "routing", "reports")
            for path in (root / app_dir).rglob("*.py")
            for name in path_of_task.findall(path.read_text())
        }
    )
    assert {"care.tasks.run_retention_task", "routing.tasks.offer_case_task"} <= set(named)
    script = (
        "import json, sys, django\n"
        "django.setup()\n"
        "from config.celery import app\n"
        "from config.tasks import task_at\n"
        "names = json.loads(sys.argv[1])\n"
        "for name in names: task_at(name)\n"
        "print(json.dumps([n for n in names if n not in app.tasks]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(named)],
        cwd=root,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_a_task_name_nobody_registered_is_logged_not_raised(caplog):
    from config.tasks import enqueue

    assert enqueue("care.tasks.no_such_task", 1) is False
    assert "no task at care.tasks.no_such_task" in caplog.text
