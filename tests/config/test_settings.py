"""Settings in both modes, and start-up errors that name the bad variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x7!k2@Lq9#vR4$wZ8&mN1^pT6*yB3(cF5)hJ0_sD-gA+eU=iO~" * 2,
    "DJANGO_ALLOWED_HOSTS": "presidio.example.it",
    "DATABASE_URL": "postgres://presidio:pw@db.internal:5432/presidio",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CELERY_BROKER_URL": "redis://cache.internal:6379/1",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_command(sys.executable, "manage.py", *args, env=env)


def run_command(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_"))
    }
    clean.update(env)
    return subprocess.run(
        command,
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_uses_postgres_redis_and_secure_cookies():
    script = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'],"
        " s.CELERY_BROKER_URL, s.SESSION_COOKIE_SECURE, s.DEBUG,"
        " s.STORAGES['staticfiles']['BACKEND'])"
    )
    result = run_manage("shell", "--no-imports", "-c", script, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    engine, cache, broker, secure, debug, storage = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert cache == "django.core.cache.backends.redis.RedisCache"
    assert broker == "redis://cache.internal:6379/1"
    assert (secure, debug) == ("True", "False")
    assert storage == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_embedded_default_needs_no_variables():
    script = (
        "from django.conf import settings as s;"
        "o = s.DATABASES['default']['OPTIONS'];"
        "print(s.DATABASES['default']['ENGINE'], o['transaction_mode'], s.CELERY_BROKER_URL,"
        " s.DEBUG, s.LANGUAGE_CODE, s.CELERY_TASK_ACKS_LATE, s.CELERY_WORKER_PREFETCH_MULTIPLIER)"
    )
    result = run_manage("shell", "--no-imports", "-c", script, env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "IMMEDIATE",
        "filesystem://",
        "True",
        "it",
        "True",
        "1",
    ]


@pytest.mark.parametrize(("value", "expected"), [("", "True"), ("false", "False")])
def test_push_is_on_unless_presidio_auto_assign_says_off_as_the_demo_does(value, expected):
    env = {"PRESIDIO_AUTO_ASSIGN": value} if value else {}
    script = "from django.conf import settings as s; print(s.ROUTING_AUTO_ASSIGN)"
    result = run_manage("shell", "--no-imports", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected]
    assert (
        'os.environ.setdefault("PRESIDIO_AUTO_ASSIGN", "false")'
        in (ROOT / "scripts" / "run.py").read_text()
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        ({"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "x.it"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 60}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": "a.it,,b.it"}, "DJANGO_ALLOWED_HOSTS"),
        ({"DATABASE_URL": "mysql://db/presidio"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "localhost:6379"}, "CELERY_BROKER_URL"),
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL"),
        ({"PRESIDIO_PROXY_COUNT": "one"}, "PRESIDIO_PROXY_COUNT"),
        ({"PRESIDIO_PROXY_COUNT": "-1"}, "PRESIDIO_PROXY_COUNT"),
    ],
)
def test_bad_variable_stops_start_up_with_one_line_naming_it(env, variable):
    result = run_manage("check", env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error:")
    assert variable in lines[0]


def test_bad_variable_stops_celery_with_the_same_one_line():
    celery = str(Path(sys.executable).with_name("celery"))
    result = run_command(celery, "-A", "config", "report", env={"DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error:")
    assert "DJANGO_DEBUG" in lines[0]


def test_every_beat_entry_expires_after_its_interval(settings):
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["options"]["expires"] == entry["schedule"], name


def test_tasks_survive_a_dying_worker(settings):
    """Late acknowledgement + reject on worker loss: a killed worker's task is re-queued."""
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


def test_collectstatic_builds_compressed_hashed_assets_for_production(tmp_path):
    result = run_manage(
        "collectstatic",
        "--noinput",
        "-v0",
        env={**PRODUCTION_ENV, "DJANGO_STATIC_ROOT": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "css/presidio.css" in manifest
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest
    assert list(tmp_path.glob("css/presidio.*.css.gz"))
