from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PresidioConfig(AppConfig):
    """System-wide pieces: roles, health, heartbeats, the API's error contract."""

    name = "config"
    label = "config"
    verbose_name = _("System")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.backends.signals import connection_created
        from django.urls import register_converter

        from config.converters import IdConverter

        register_converter(IdConverter, "id")

        from config.db import read_instants_in_c

        connection_created.connect(read_instants_in_c, dispatch_uid="presidio-c-instants")

        from config.textsearch import define_fold

        connection_created.connect(define_fold, dispatch_uid="presidio-sqlite-fold")

        from config.middleware import record_session_at_login, remember_login_time, say_goodbye

        user_logged_in.connect(remember_login_time, dispatch_uid="presidio-login-time")
        user_logged_in.connect(record_session_at_login, dispatch_uid="presidio-user-session")
        user_logged_out.connect(say_goodbye, dispatch_uid="presidio-goodbye")

        from config.access_log import check_chain_nightly
        from config.nightly import nightly

        nightly.connect(check_chain_nightly, dispatch_uid="presidio-access-log-check")
