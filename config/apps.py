from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PresidioConfig(AppConfig):
    """System-wide pieces: roles, health, heartbeats, the API's error contract."""

    name = "config"
    label = "config"
    verbose_name = _("System")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from config.middleware import remember_login_time

        user_logged_in.connect(remember_login_time, dispatch_uid="presidio-login-time")
