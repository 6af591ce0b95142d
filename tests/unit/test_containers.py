"""The container: every service it defers names something that exists."""

from __future__ import annotations

from dependency_injector import providers

from pg_backup_manager.entrypoints.containers import Container, Deferred


def test_every_deferred_class_of_the_container_can_be_imported() -> None:
    deferred = [
        provider.provides
        for provider in Container.traverse(types=[providers.Factory, providers.Singleton])
        if isinstance(provider.provides, Deferred)
    ]

    resolved = [target.resolve() for target in deferred]

    assert len(deferred) >= 20
    assert [target.__name__ for target in resolved] == [target.name for target in deferred]
