"""`make run`: the portal and one Celery worker with beat, stopped together by Ctrl-C.

First, in this one process (one Django start-up instead of three): the migrations, only when
some are pending, and `seed_demo` (on seeded data it checks one row, and refreshes a demo seeded
more than a day ago). Then runserver; the worker starts once the portal answers, so the two do
not share the first seconds' CPU. A worker that dies on its own is started again (and the
console says so); the portal dying stops everything.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_ADDRESS = "127.0.0.1:8000"
STOP_GRACE_SECONDS = 15
RESTARTS_PER_MINUTE = 3


def serve_address(value: str | None) -> str:
    """Where `make run` serves (PRESIDIO_ADDRESS): `host:port`, or a bare port on loopback."""
    value = (value or "").strip()
    if not value:
        return DEFAULT_ADDRESS
    return f"127.0.0.1:{value}" if value.isdigit() else value


ADDRESS = serve_address(os.environ.get("PRESIDIO_ADDRESS"))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from config.demo import DEMO_PASSWORD, DEMO_USERS

    (ROOT / ".tmp" / "celery").mkdir(parents=True, exist_ok=True)
    # The demo's managers have no authenticator app: the second factor is off unless asked
    # for (PRESIDIO_TWO_FACTOR=true make run). Production settings keep it on.
    two_factor = os.environ.get("PRESIDIO_TWO_FACTOR", "false")
    # Pull-only unless asked (PRESIDIO_AUTO_ASSIGN=true make run): the seeded cases wait in the
    # queues for *Prossimo caso* instead of being offered by the worker in its first minute.
    os.environ.setdefault("PRESIDIO_AUTO_ASSIGN", "false")
    # The demo reads e-mail from a local maildir (no mail server): drop .eml files into
    # .tmp/maildir/new; new cases from known senders get the category "no-service".
    maildir = ROOT / ".tmp" / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PRESIDIO_MAILBOXES", f"demo=maildir://{maildir}")
    os.environ.setdefault("PRESIDIO_MAIL_CATEGORY", "no-service")
    prepare()
    web = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", ADDRESS],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "PRESIDIO_TWO_FACTOR": two_factor},
    )
    wait_until_serving(web, ADDRESS)
    worker = start_worker()

    print(f"\nPresidio: http://{ADDRESS}/   (API docs: http://{ADDRESS}/api/docs/)")
    print(
        f"Demo logins, password '{DEMO_PASSWORD}': "
        + ", ".join(f"{username} ({role})" for username, _, _, role in DEMO_USERS)
    )
    if two_factor.lower() in {"0", "false", "no", "off"}:
        print("Two-factor sign-in for managers and admins is off in the demo.")
    if os.environ["PRESIDIO_AUTO_ASSIGN"].lower() in {"0", "false", "no", "off"}:
        print(
            "Automatic assignment is off in the demo: cases wait in the queues for "
            "'Prossimo caso' (PRESIDIO_AUTO_ASSIGN=true make run turns it on)."
        )
    print(
        "Calls: in another terminal, `.venv/bin/python manage.py simulate_calls --rate 2/s "
        "--minutes 10` plays the PBX (wallboard: /routing/wallboard/)."
    )
    print(
        f"E-mail: .eml files dropped into {maildir / 'new'} are read every minute "
        "(or upload one on /care/mail/); mail sent to end users is printed here."
    )
    print("Ctrl-C stops the portal and its worker.\n", flush=True)

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    keeper = WorkerKeeper(start_worker, worker)
    exit_code = 0
    try:
        while web.poll() is None:
            keeper.check()
            time.sleep(0.5)
        exit_code = 1  # the web server died on its own: stop the worker too
        print("The web server stopped unexpectedly; stopping the worker.", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(web=web, worker=keeper.worker)
    return exit_code


def prepare() -> None:
    """Migrate (only when a migration is pending: a bare `migrate` costs a second even with
    nothing to do) and seed the demo, in this process."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False)
    call_command("seed_demo")
    connections.close_all()  # the children open their own


def wait_until_serving(web: subprocess.Popen, address: str, timeout: float = 60) -> None:
    """Until the portal accepts connections (or has died, or `timeout` seconds went by)."""
    host, _sep, port = address.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host.strip("[]")  # noqa: S104
    deadline = time.monotonic() + timeout
    while web.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), 0.5):
            return
        time.sleep(0.1)


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--beat",
            "--loglevel=INFO",
            "--concurrency=2",
            "--without-mingle",
            "--without-gossip",
            "--schedule",
            str(ROOT / ".tmp" / "celerybeat-schedule"),
        ],
        cwd=ROOT,
        start_new_session=True,
    )


class WorkerKeeper:
    """Starts the worker again when it dies, saying so, at most `RESTARTS_PER_MINUTE` times a
    minute: a demo never silently loses its background work, and a worker that cannot start
    does not spin."""

    def __init__(self, start, worker: subprocess.Popen, *, clock=time.monotonic) -> None:
        self.start = start
        self.worker = worker
        self.clock = clock
        self.restarts: deque[float] = deque()
        self.waiting_since: float | None = None

    def check(self) -> None:
        code = self.worker.poll()
        if code is None:
            return
        now = self.clock()
        while self.restarts and now - self.restarts[0] >= 60:
            self.restarts.popleft()
        if len(self.restarts) >= RESTARTS_PER_MINUTE:
            if self.waiting_since is None:
                self.waiting_since = now
                wait = 60 - (now - self.restarts[0])
                print(
                    f"The background worker stopped (exit code {code}) {len(self.restarts)} "
                    f"times in a minute; next start in {wait:.0f} s.",
                    file=sys.stderr,
                    flush=True,
                )
            return
        self.waiting_since = None
        print(
            f"The background worker stopped (exit code {code}); starting it again.",
            file=sys.stderr,
            flush=True,
        )
        self.restarts.append(now)
        self.worker = self.start()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop(*, web: subprocess.Popen, worker: subprocess.Popen) -> None:
    """SIGINT to the worker's group (a terminal's Ctrl-C: Celery shuts down warm), SIGTERM to
    runserver's (it ignores SIGINT when started without a terminal), then SIGKILL to whatever
    is left after STOP_GRACE_SECONDS. Another Ctrl-C meanwhile cannot cut this short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _signal_group(worker, signal.SIGINT)
    _signal_group(web, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in (web, worker):
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        _signal_group(child, signal.SIGKILL)
        child.wait()


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


if __name__ == "__main__":
    sys.exit(main())
