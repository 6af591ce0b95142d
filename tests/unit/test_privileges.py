from __future__ import annotations

import os

import pytest

from pg_backup_manager.adapters.privileges import drop_root
from pg_backup_manager.domain.errors import ConfigurationError


@pytest.mark.skipif(os.geteuid() != 0, reason="only root switches users")
def test_as_root_a_missing_user_is_refused_before_anything_changes() -> None:
    with pytest.raises(ConfigurationError, match="no user 'no-such-user-here'"):
        drop_root("no-such-user-here")

    assert os.geteuid() == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="only root switches users")
def test_root_is_never_a_user_to_become() -> None:
    with pytest.raises(ConfigurationError, match="is root"):
        drop_root("root")
