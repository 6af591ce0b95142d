from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.restore.scratch import (
    Purpose,
    ScratchNames,
    TemporaryDatabase,
    plan_leftovers,
)

AT = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
EARLY = datetime(2024, 1, 1, tzinfo=UTC)
LATE = datetime(2024, 1, 2, tzinfo=UTC)
EU = ScratchNames(identifier="eu", target="customer_analytics_warehouse_production_eu")
US = ScratchNames(identifier="us", target="customer_analytics_warehouse_production_us")


def found(*names: str) -> list[TemporaryDatabase]:
    return [TemporaryDatabase(name=name) for name in names]


@given(identifier=st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True), target=st.text())
def test_every_name_fits_in_63_bytes_and_is_recognised_as_its_own(
    identifier: str, target: str
) -> None:
    names = ScratchNames(identifier=identifier, target=target)

    for purpose in Purpose:
        name = names.name(purpose, AT)
        assert len(name.encode()) <= 63
        assert names.purpose_of(name) is purpose


def test_services_whose_targets_share_a_long_prefix_never_share_a_name() -> None:
    for purpose in Purpose:
        assert EU.name(purpose, AT) != US.name(purpose, AT)
        assert US.purpose_of(EU.name(purpose, AT)) is None


def test_the_same_target_of_two_services_gets_two_names() -> None:
    one = ScratchNames(identifier="a", target="app")
    other = ScratchNames(identifier="b", target="app")

    assert one.name(Purpose.RESTORE, AT) != other.name(Purpose.RESTORE, AT)


def test_scratch_copies_are_dropped_and_set_aside_ones_kept_while_the_target_exists() -> None:
    plan = plan_leftovers(
        found(EU.name(Purpose.RESTORE, EARLY), EU.name(Purpose.REPLACED, EARLY)),
        names=EU,
        target_exists=True,
    )

    assert plan.drop == (EU.name(Purpose.RESTORE, EARLY),)
    assert plan.put_back is None
    assert plan.keep == (EU.name(Purpose.REPLACED, EARLY),)


def test_the_newest_set_aside_copy_is_put_back_when_the_target_is_missing() -> None:
    older, newer = EU.name(Purpose.REPLACED, EARLY), EU.name(Purpose.REPLACED, LATE)

    plan = plan_leftovers(found(newer, older), names=EU, target_exists=False)

    assert (plan.put_back, plan.keep) == (newer, (older,))


def test_another_services_databases_and_look_alikes_are_never_in_the_plan() -> None:
    plan = plan_leftovers(
        found(
            US.name(Purpose.RESTORE, EARLY),
            US.name(Purpose.REPLACED, EARLY),
            EU.name(Purpose.RESTORE, EARLY) + "0",
            EU.head(Purpose.RESTORE) + "notes",
        ),
        names=EU,
        target_exists=False,
    )

    assert plan.empty


def test_a_name_marked_for_another_owner_is_not_taken_even_if_it_matches() -> None:
    name = EU.name(Purpose.RESTORE, EARLY)
    marked = TemporaryDatabase(name=name, comment=US.marker(Purpose.RESTORE))
    ours = TemporaryDatabase(name=name, comment=EU.marker(Purpose.RESTORE))

    assert plan_leftovers([marked], names=EU, target_exists=True).empty
    assert plan_leftovers([ours], names=EU, target_exists=True).drop == (name,)
