"""Migration file names and versions are checked before anything touches a database."""

import pytest

from cohort_runtime.migrations import MigrationError, load_migrations, runtime_migrations


def test_migrations_are_ordered_by_version_not_by_name():
    ms = load_migrations("svc", {"0010_z.sql": "", "0002_b.sql": "", "0001_a.sql": ""})
    assert [m.version for m in ms] == [1, 2, 10]
    assert ms[0].label == "svc:0001_a.sql"


@pytest.mark.parametrize("name", ["1_a.sql", "0001-a.sql", "0001_A.sql", "0001_a.txt", "abcd_a.sql"])
def test_badly_named_files_are_rejected(name):
    with pytest.raises(MigrationError, match=r"NNNN_description\.sql"):
        load_migrations("svc", {name: ""})


def test_duplicate_versions_are_rejected():
    with pytest.raises(MigrationError, match="two migrations have version 0001"):
        load_migrations("svc", {"0001_a.sql": "", "0001_b.sql": ""})


def test_checksum_follows_content():
    (a,) = load_migrations("svc", {"0001_a.sql": "SELECT 1"})
    (b,) = load_migrations("svc", {"0001_a.sql": "SELECT 2"})
    assert a.checksum != b.checksum


def test_runtime_ships_its_outbox_and_inbox_migration():
    labels = [m.label for m in runtime_migrations()]
    assert labels == [
        "runtime:0001_outbox_inbox.sql",
        "runtime:0002_outbox_parked.sql",
        "runtime:0003_outbox_vacuum.sql",
        "runtime:0004_inbox_retention.sql",
        "runtime:0005_outbox_purge.sql",
    ]
