"""The models and their migrations agree: moving code between packages changed no model, and
every app keeps its label (a database migrated by an earlier release needs nothing new)."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command


@pytest.mark.django_db
def test_models_match_their_migrations():
    out = io.StringIO()
    # --check exits non-zero when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_every_app_keeps_its_label():
    labels = {config.name: config.label for config in apps.get_app_configs()}
    assert {name: label for name, label in labels.items() if name.startswith("twofold.")} == {
        "twofold.web": "web",
        "twofold.config": "twofold_config",
        "twofold.users": "users",
        "twofold.organizations": "organizations",
        "twofold.sessions": "twofold_sessions",
        "twofold.signin": "signin",
        "twofold.sms": "sms",
        "twofold.factors": "factors",
        "twofold.audit": "audit",
        "twofold.idp": "twofold_idp",
        "twofold.scheduler": "twofold_scheduler",
        "twofold.sso": "sso",
        "twofold.api": "api",
    }
