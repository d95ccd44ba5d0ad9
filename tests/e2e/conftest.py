"""Browser tests: Debian's chromium, driven headless by Playwright, against a live server."""

import os
import threading
from pathlib import Path

import pytest

from config import roles

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery"  # as tests/conftest.py make_user

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it (creating users) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class RequestsInFlight:
    """Counts the requests the live server is handling, so a test ends only once they are done.

    A page may still be loading a panel or polling when its test's last check passes. Were
    the database emptied meanwhile, that request would fail, or its transaction would
    deadlock with the TRUNCATE and leave the next test a database that was not emptied.
    Requests are counted, not connections: a client may keep a connection open for long.
    """

    def __init__(self, server):
        self.count = 0
        self.idle = threading.Condition()
        app = server.get_app()
        counter = self

        class Counted:
            """The response, until the server closes it (Django's request_finished)."""

            def __init__(self, response):
                self.response = response

            def __iter__(self):
                return iter(self.response)

            def close(self):
                try:
                    if hasattr(self.response, "close"):
                        self.response.close()
                finally:
                    counter.finished()

        def counted(environ, start_response):
            with self.idle:
                self.count += 1
            try:
                return Counted(app(environ, start_response))
            except BaseException:
                self.finished()
                raise

        server.set_app(counted)

    def finished(self) -> None:
        with self.idle:
            self.count -= 1
            self.idle.notify_all()

    def wait_until_idle(self, timeout: float = 15.0) -> None:
        with self.idle:
            if not self.idle.wait_for(lambda: self.count == 0, timeout=timeout):
                raise AssertionError(f"{self.count} request(s) still open after {timeout} s")


@pytest.fixture(scope="session")
def requests_in_flight(live_server):
    return RequestsInFlight(live_server.thread.httpd)


@pytest.fixture
def page(browser, live_server, requests_in_flight):
    context = browser.new_context(locale="it-IT", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()  # the browser sends nothing more
    requests_in_flight.wait_until_idle()


@pytest.fixture
def operator_login(user_factory):
    return user_factory("op.ferri", roles.OPERATOR, first_name="Paola", last_name="Ferri")


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    expect(page.locator("#id_username")).to_be_focused()  # typing starts on arrival
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if "/accounts/two-factor/" in page.url:  # managers and admins: the TOTP code as well
        from django.contrib.auth import get_user_model
        from django_otp.oath import totp

        from tests.conftest import confirmed_totp_device

        device = confirmed_totp_device(get_user_model().objects.get(username=username))
        # Typed only once the field has the focus: keys pressed before autofocus applies
        # are lost, and a code short of a digit is refused (an intermittent failure).
        expect(page.locator("#id_code")).to_be_focused()
        page.keyboard.type(f"{totp(device.bin_key):06d}")
        with page.expect_navigation():
            page.keyboard.press("Enter")
