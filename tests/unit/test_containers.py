"""The container: every service it defers loads the class it is named after."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from pg_backup_manager.domain.backups.offsite_steps import CopyOffsite, NoOffsite
from pg_backup_manager.domain.offsite.use import OffsiteUse
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.lazy import Deferred


def test_every_deferred_class_of_the_container_can_be_imported() -> None:
    deferred = [
        provider.provides
        for provider in Container.providers.values()
        if isinstance(provider, providers.Factory | providers.Singleton)
        and isinstance(provider.provides, Deferred)
    ]

    resolved = [target.load() for target in deferred]

    assert len(deferred) >= 20
    assert [target.__name__ for target in resolved] == [target.load.__name__ for target in deferred]


def test_every_service_of_the_container_is_built_from_a_valid_environment(
    tmp_path: Path,
) -> None:
    # Building checks what mypy cannot see through dependency-injector: each class
    # takes the keyword arguments the container gives it.
    container = Container(
        environ={
            "DATABASE_LIST": "users",
            "USERS_POSTGRES_PASSWORD": "secret",
            "OFFSITE_URL": "s3://backups/site-a",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9",
        },
        cwd=tmp_path,
    )
    names = [
        name
        for name, provider in container.providers.items()
        if isinstance(provider, providers.Factory | providers.Singleton)
        and isinstance(provider.provides, Deferred)
        # Built, it runs pg_dump --version: the integration tests of `config` build it.
        and name != "client_tools"
    ]

    built = {name: getattr(container, name)() for name in names}

    assert len(built) >= 20
    assert all(service is not None for service in built.values())


@pytest.mark.parametrize(
    ("environ", "use", "steps", "retention"),
    [
        ({}, OffsiteUse.OFF, NoOffsite, False),
        (
            {"OFFSITE_URL": "s3://backups/a", "OFFSITE_RETENTION": "false"},
            OffsiteUse.COPY,
            CopyOffsite,
            False,
        ),
        ({"OFFSITE_URL": "s3://backups/a"}, OffsiteUse.COPY_AND_PRUNE, CopyOffsite, True),
    ],
)
def test_whether_off_site_and_its_retention_are_on_is_decided_once_for_every_use_case(
    tmp_path: Path, environ: dict[str, str], use: OffsiteUse, steps: type, retention: bool
) -> None:
    container = Container(
        environ={"DATABASE_LIST": "users", "USERS_POSTGRES_PASSWORD": "secret", **environ},
        cwd=tmp_path,
    )

    run = container.backup_run()

    assert container.offsite_use() is use
    assert isinstance(run.offsite, steps)
    assert container.status().offsite is use.on
    if isinstance(run.offsite, CopyOffsite):
        assert run.offsite.retention is retention
        assert container.prune_offsite().enabled is retention
