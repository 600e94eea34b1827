import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k7#vQ2!mZp9rT4&wX8@cL1^bN6*hJ3$fG5%dS0(aY)eU-iO+uE=",
    "ALLOWED_HOSTS": "orders.example.com",
    "DATABASE_URL": "sqlite:////tmp/orderreview-check-deploy.sqlite3",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587",
}


def _manage(*args, env):
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    dropped = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_it_passes_check_deploy_with_production_values():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_in_production():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_fails_loudly_on_a_malformed_boolean():
    result = _manage("check", env={"DEBUG": "ture"})
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_a_filemail_url_writes_to_its_absolute_directory(tmp_path):
    target = tmp_path / "mail"
    code = "from django.conf import settings; print(settings.EMAIL_FILE_PATH)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django, os; django.setup(); {code}"],
        cwd=tmp_path,  # elsewhere than the project: a relative path would land here
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "EMAIL_URL": f"filemail://{target}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == str(target), result.stderr


@pytest.mark.django_db
def test_seed_demo_refuses_in_production(settings):
    from django.core.management import CommandError, call_command

    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE is off"):
        call_command("seed_demo")
