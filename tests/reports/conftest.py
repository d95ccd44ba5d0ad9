"""The care fixtures that open cases through the real services, shared with these tests."""

from tests.care.conftest import end_user, open_case_for  # noqa: F401
