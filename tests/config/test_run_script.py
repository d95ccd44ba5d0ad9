"""`make run`'s shutdown (scripts/run.py): every process it started stops, whatever happens."""

import importlib.util
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_script", ROOT / "scripts" / "run.py")
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


@pytest.fixture
def start():
    """Starts a stand-in for runserver or the worker, in its own session as run.py does,
    that ignores the signals named; returns once it is ready."""
    started = []
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def start(*ignored: str) -> subprocess.Popen:
        code = (
            "import signal, time\n"
            # A shell's background job starts with SIGINT ignored, and children inherit that:
            # the stand-in answers Ctrl-C as a terminal-started process does.
            + "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            + "".join(f"signal.signal(signal.{name}, signal.SIG_IGN)\n" for name in ignored)
            + "print('ready', flush=True)\ntime.sleep(60)\n"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        started.append(child)
        assert child.stdout.readline() == "ready\n"
        return child

    yield start
    for signum, handler in saved.items():  # _stop ignores them for good; pytest needs them
        signal.signal(signum, handler)
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


def test_runserver_started_without_a_terminal_still_stops(start):
    web = start("SIGINT")  # a background start leaves SIGINT ignored
    worker = start()
    run._stop(web=web, worker=worker)
    assert web.returncode == -signal.SIGTERM
    assert worker.returncode == -signal.SIGINT


def test_a_second_ctrl_c_does_not_skip_the_kill_of_a_stuck_process(start, monkeypatch):
    monkeypatch.setattr(run, "STOP_GRACE_SECONDS", 1)
    web = start()
    worker = start("SIGINT", "SIGTERM")  # stuck: only SIGKILL ends it
    signal.signal(signal.SIGINT, run._interrupt)  # as main() installs it
    second_ctrl_c = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    second_ctrl_c.start()
    try:
        run._stop(web=web, worker=worker)
    except KeyboardInterrupt:
        pytest.fail("a second Ctrl-C cut the shutdown short")
    finally:
        second_ctrl_c.join()
    assert worker.returncode == -signal.SIGKILL
    assert web.returncode == -signal.SIGTERM


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def dying_worker() -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    child.wait()
    return child


def test_a_worker_that_dies_is_started_again_and_the_console_says_so(capsys):
    started = []

    def start():
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        started.append(child)
        return child

    keeper = run.WorkerKeeper(start, dying_worker(), clock=FakeClock())
    try:
        keeper.check()
        assert keeper.worker is started[0]
        assert keeper.worker.poll() is None
        assert "background worker stopped (exit code 3); starting it again" in (
            capsys.readouterr().err
        )
        keeper.check()  # alive: nothing happens
        assert started == [keeper.worker]
    finally:
        for child in started:
            child.kill()
            child.wait()


def test_a_worker_that_keeps_dying_is_started_at_most_three_times_a_minute(capsys):
    clock = FakeClock()
    starts = []

    def start():
        starts.append(clock.now)
        return dying_worker()

    keeper = run.WorkerKeeper(start, dying_worker(), clock=clock)
    for second in range(0, 130, 5):
        clock.now = float(second)
        keeper.check()
    assert starts == [0.0, 5.0, 10.0, 60.0, 65.0, 70.0, 120.0, 125.0]
    assert "times in a minute; next start in 45 s" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "address"),
    [
        (None, "127.0.0.1:8000"),
        ("", "127.0.0.1:8000"),
        ("8001", "127.0.0.1:8001"),
        ("0.0.0.0:8001", "0.0.0.0:8001"),
    ],
)
def test_make_run_serves_where_presidio_address_says(value, address):
    assert run.serve_address(value) == address


def test_the_readme_names_presidio_address_as_run_py_reads_it():
    readme = (ROOT / "README.md").read_text()
    assert "PRESIDIO_ADDRESS" in readme
    assert 'os.environ.get("PRESIDIO_ADDRESS")' in (ROOT / "scripts" / "run.py").read_text()
