"""A rolling upgrade runs the release before and the new one side by side on one database
(docs/operations.md, "Upgrading"): the first instance of the new release migrates, the others
still serve the old code until they are replaced. So a migration the old code has not seen may
only add what the old code can ignore: a table, a nullable column or one with a database
default, an index, a data migration. Removing, renaming or tightening waits for the release
after the code stops using it. ``RELEASED`` is every migration a database may already have;
add a release's new migrations to it when it is tagged.
"""

from __future__ import annotations

from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation

# The schema of the first release: every migration up to the operations issue.
RELEASED = frozenset(
    {
        ("audit", "0001_initial"),
        ("factors", "0001_initial"),
        ("factors", "0002_preferred_factor"),
        ("factors", "0003_totp_last_step"),
        ("factors", "0004_backup_codes_of_an_enrollment"),
        ("twofold_idp", "0001_initial"),
        ("twofold_idp", "0002_grant_redemption"),
        ("twofold_idp", "0003_sessions_logout_and_subjects"),
        ("organizations", "0001_initial"),
        ("organizations", "0002_initial"),
        ("organizations", "0003_mandatory_two_factor"),
        ("organizations", "0004_allowed_two_factor_methods"),
        ("organizations", "0005_allow_remembered_devices"),
        ("twofold_scheduler", "0001_initial"),
        ("signin", "0001_remembered_devices"),
        ("sms", "0001_initial"),
        ("sms", "0002_delivery_reserved"),
        ("sso", "0001_sso_connections"),
        ("sso", "0002_email_domain_verification"),
        ("users", "0001_initial"),
    }
)


def unsafe_for_the_release_before(operation: Operation) -> str | None:
    """Why the code of the release before breaks once ``operation`` is applied, or None."""
    if isinstance(operation, migrations.CreateModel | migrations.AddIndex | migrations.RunPython):
        return None
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if field.null or field.db_default is not models.NOT_PROVIDED or field.many_to_many:
            return None
        return (
            f"adds the required column {operation.model_name}.{operation.name} without "
            "db_default: the old code's inserts leave it out and fail"
        )
    return (
        f"{type(operation).__name__} changes what the old code reads or writes: "
        "do it one release after the code stops using it"
    )


def test_a_new_migration_keeps_the_release_before_working():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    ours = {
        key: migration
        for key, migration in loader.disk_migrations.items()
        if migration.__module__.startswith("twofold.")
    }
    problems = [
        f"{app}.{name}: {reason}"
        for (app, name), migration in sorted(ours.items())
        if (app, name) not in RELEASED
        for operation in migration.operations
        if (reason := unsafe_for_the_release_before(operation)) is not None
    ]
    assert problems == []


def test_what_breaks_the_release_before_is_named():
    required = migrations.AddField("member", "nickname", models.CharField(max_length=10))
    assert "required column member.nickname" in str(unsafe_for_the_release_before(required))
    removed = migrations.RemoveField("member", "nickname")
    assert "RemoveField" in str(unsafe_for_the_release_before(removed))
    renamed = migrations.RenameField("member", "nickname", "alias")
    assert "RenameField" in str(unsafe_for_the_release_before(renamed))
    tightened = migrations.AlterField("member", "nickname", models.CharField(max_length=5))
    assert "AlterField" in str(unsafe_for_the_release_before(tightened))


def test_what_the_release_before_ignores_passes():
    nullable = models.CharField(max_length=10, null=True)
    defaulted = models.IntegerField(db_default=0)
    assert unsafe_for_the_release_before(migrations.AddField("m", "a", nullable)) is None
    assert unsafe_for_the_release_before(migrations.AddField("m", "b", defaulted)) is None
    new_table = migrations.CreateModel("Thing", [("id", models.AutoField(primary_key=True))])
    assert unsafe_for_the_release_before(new_table) is None
