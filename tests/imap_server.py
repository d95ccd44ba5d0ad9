"""A throwaway Dovecot IMAP server for tests: plain IMAP on a free loopback port, one user from
a passwd-file, its maildir under a temporary directory. Started once per session by the
`imap_server` fixture (tests/conftest.py), like the PostgreSQL and Redis of scripts/services.sh.
"""

import contextlib
import getpass
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = Path("/usr/sbin/dovecot")
USER = "presidio"
PASSWORD = "imap-test-password"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = presidio-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
"""


@dataclass
class ImapServer:
    port: int
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{self.user}@{self.host}:{self.port}/{folder}"

    @contextlib.contextmanager
    def session(self):
        client = imaplib.IMAP4(self.host, self.port)
        try:
            client.login(self.user, self.password)
            client.select("INBOX")
            yield client
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def deliver(self, *messages: bytes) -> None:
        """APPEND each message, unread, as a mail server delivers it."""
        with self.session() as client:
            for raw in messages:
                status, _data = client.append("INBOX", None, None, raw)
                assert status == "OK", _data

    def empty(self) -> None:
        with self.session() as client:
            _status, data = client.search(None, "ALL")
            if data[0]:
                client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                client.expunge()

    def count(self, criterion: str) -> int:
        """How many messages match an IMAP SEARCH criterion ("UNSEEN", "SEEN", "ALL")."""
        with self.session() as client:
            status, data = client.search(None, criterion)
            assert status == "OK"
            return len(data[0].split())


def available() -> bool:
    return DOVECOT.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accounts() -> dict:
    """Dovecot refuses to run its mail processes as root: as root, the package's own users
    and `nobody` for the mailbox; otherwise everything runs as the current user."""
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return {
            "login_user": "dovenull",
            "internal_user": "dovecot",
            "uid": nobody.pw_uid,
            "gid": nobody.pw_gid,
        }
    me = getpass.getuser()
    return {"login_user": me, "internal_user": me, "uid": os.getuid(), "gid": os.getgid()}


@contextlib.contextmanager
def running():
    """Start Dovecot, wait until it answers, stop it and remove its files afterwards."""
    root = Path(tempfile.mkdtemp(prefix="presidio-dovecot-"))
    root.chmod(0o755)  # the mail and login processes do not run as the caller
    port = _free_port()
    accounts = _accounts()
    (root / "mail").mkdir()
    if os.getuid() == 0:
        os.chown(root / "mail", accounts["uid"], accounts["gid"])
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "users").chmod(0o644)
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, **accounts))
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_listening(process, port, root)
        yield ImapServer(port=port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_listening(process: subprocess.Popen, port: int, root: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    log = root / "dovecot.log"
    raise RuntimeError(
        "Dovecot did not start: " + (log.read_text()[-2000:] if log.exists() else "no log")
    )
