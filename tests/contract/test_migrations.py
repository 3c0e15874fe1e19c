"""Schema versioning: every stored record carries its schema version, an old record
is upgraded when it is read, and ``migrate_stored`` upgrades stored records in place.

The older records are written with the raw collection, the way an earlier release
of the code left them, behind the repository's back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from tests.support.models import CarePlanRecord
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    AsyncBaseRepository,
    DatabaseManager,
    QueryOptions,
    RepositoryError,
    UserRole,
    acting_as,
    new_id,
)

POUNDS_TO_KG = 0.45359237
WRITTEN_AT = datetime(2023, 11, 20, 9, 15, tzinfo=UTC)


class CarePlanRecordV2(CarePlanRecord):
    """Version 2 of the care plan: body weight is kept in kilograms.

    Version 1 stored it in pounds, under ``weight_lb`` (psychiatry tracks weight
    while a patient takes an antipsychotic).
    """

    SCHEMA_VERSION: ClassVar[int] = 2


class CarePlanRepositoryV2(AsyncBaseRepository[CarePlanRecordV2]):
    """Care plans with the migration from version 1 to version 2."""

    model = CarePlanRecordV2

    def migrate_entity_v1_to_v2(self, document: dict[str, Any]) -> dict[str, Any]:
        pounds = document.pop("weight_lb", None)
        document["weight"] = round(pounds * POUNDS_TO_KG, 1) if pounds else 0.0
        return document


class CarePlanRecordV3(CarePlanRecord):
    """A version 3 that no repository has a migration to."""

    SCHEMA_VERSION: ClassVar[int] = 3


@pytest.fixture
def plans_v2(db: DatabaseManager) -> CarePlanRepositoryV2:
    return CarePlanRepositoryV2(db)


def version_one_document(**changes: Any) -> dict[str, Any]:
    """A care plan as version 1 of the code stored it."""
    document: dict[str, Any] = {
        "_id": new_id(),
        "_rev": 1,
        "_version": 1,
        "created_at": WRITTEN_AT,
        "updated_at": None,
        "patient_id": "patient_123",
        "title": "Olanzapine start, metabolic monitoring",
        "weight_lb": 176.0,
    }
    document.update(changes)
    return document


async def store_raw(db: DatabaseManager, *documents: dict[str, Any]) -> None:
    await db.collection(CarePlanRecord).insert_many(list(documents))


async def raw(db: DatabaseManager, record_id: str) -> dict[str, Any]:
    document = await db.collection(CarePlanRecord).find_one({"_id": record_id})
    assert document is not None
    return dict(document)


async def test_a_new_record_is_stored_with_its_schema_version(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    plan = CarePlanRecordV2(patient_id="patient_123", title="Lithium review")

    await plans_v2.create(plan)

    stored = await raw(db, plan.id)
    assert stored["_version"] == 2
    assert stored["_rev"] == 1


async def test_version_one_record_is_upgraded_when_read(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    old = version_one_document()
    await store_raw(db, old)

    plan = await plans_v2.get(old["_id"])

    assert plan.weight == 79.8
    assert plan.title == "Olanzapine start, metabolic monitoring"
    assert plan.created_at == WRITTEN_AT


async def test_record_without_a_version_is_read_as_version_one(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    old = version_one_document()
    del old["_version"]
    await store_raw(db, old)

    plan = await plans_v2.get(old["_id"])

    assert plan.weight == 79.8


async def test_listings_upgrade_old_records_too(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    await store_raw(db, version_one_document(), version_one_document(weight_lb=220.0))

    page = await plans_v2.list_all()

    assert sorted(plan.weight for plan in page) == [79.8, 99.8]


async def test_projected_listing_upgrades_old_records_from_what_they_stored(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    await store_raw(db, version_one_document(), version_one_document(weight_lb=220.0))

    page = await plans_v2.list_all(QueryOptions(fields=["weight"]))

    assert sorted(plan.weight for plan in page) == [79.8, 99.8]


async def test_reading_leaves_the_stored_record_at_its_old_version(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    old = version_one_document()
    await store_raw(db, old)

    await plans_v2.get(old["_id"])

    assert await raw(db, old["_id"]) == old


async def test_updating_an_upgraded_record_stores_it_at_the_new_version(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    old = version_one_document()
    await store_raw(db, old)
    plan = await plans_v2.get(old["_id"])
    plan.score = 12

    await plans_v2.update(plan)

    stored = await raw(db, old["_id"])
    assert stored["_version"] == 2
    assert stored["weight"] == 79.8
    assert "weight_lb" not in stored


async def test_an_upgraded_record_still_reads_after_it_is_updated(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    old = version_one_document()
    await store_raw(db, old)
    plan = await plans_v2.get(old["_id"])
    plan.score = 12
    updated = await plans_v2.update(plan)

    fetched = await plans_v2.get(old["_id"])

    assert fetched == updated


async def test_migrate_stored_upgrades_every_old_record_in_place(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    olds = [version_one_document(weight_lb=pounds) for pounds in (154.0, 176.0, 198.0)]
    await store_raw(db, *olds)

    upgraded = await plans_v2.migrate_stored()

    assert upgraded == 3
    stored = [await raw(db, old["_id"]) for old in olds]
    assert [document["_version"] for document in stored] == [2, 2, 2]
    assert [document["weight"] for document in stored] == [69.9, 79.8, 89.8]
    assert not any("weight_lb" in document for document in stored)


async def test_migrate_stored_moves_each_upgraded_record_to_the_next_revision(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    old = version_one_document(_rev=4)
    await store_raw(db, old)

    await plans_v2.migrate_stored()

    assert (await raw(db, old["_id"]))["_rev"] == 5


async def test_migrate_stored_works_through_several_batches(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    await store_raw(db, *(version_one_document() for _ in range(5)))

    upgraded = await plans_v2.migrate_stored(batch_size=2)

    assert upgraded == 5
    assert await db.collection(CarePlanRecord).count_documents({"_version": 2}) == 5


async def test_migrate_stored_leaves_current_records_alone(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    current = await plans_v2.create(
        CarePlanRecordV2(patient_id="patient_123", title="Lithium review", weight=70.0)
    )
    await store_raw(db, version_one_document())
    before = await raw(db, current.id)

    upgraded = await plans_v2.migrate_stored()

    assert upgraded == 1
    assert await raw(db, current.id) == before


async def test_running_migrate_stored_again_upgrades_nothing(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    await store_raw(db, version_one_document(), version_one_document())
    await plans_v2.migrate_stored()

    upgraded_again = await plans_v2.migrate_stored()

    assert upgraded_again == 0


async def test_migrate_stored_is_refused_to_a_person(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    old = version_one_document()
    await store_raw(db, old)
    administrator = AccessContext(actor_id="admin_007", role=UserRole.ADMIN)

    with acting_as(administrator), pytest.raises(AccessDeniedError):
        await plans_v2.migrate_stored()

    assert await raw(db, old["_id"]) == old


async def test_record_newer_than_the_code_cannot_be_read(
    db: DatabaseManager, plans_v2: CarePlanRepositoryV2
) -> None:
    future = version_one_document(_version=3, weight=80.0)
    del future["weight_lb"]
    await store_raw(db, future)

    with pytest.raises(RepositoryError) as raised:
        await plans_v2.get(future["_id"])

    assert "schema version 3" in str(raised.value)


async def test_old_record_without_a_registered_migration_cannot_be_read(
    db: DatabaseManager,
) -> None:
    old = version_one_document()
    await store_raw(db, old)
    plans_v3 = AsyncBaseRepository(db, model=CarePlanRecordV3)

    with pytest.raises(RepositoryError) as raised:
        await plans_v3.get(old["_id"])

    assert "no migration from schema version 1 to 2" in str(raised.value)


async def test_a_migration_that_skips_a_version_is_refused(
    db: DatabaseManager,
) -> None:
    class SkippingRepository(AsyncBaseRepository[CarePlanRecordV3]):
        model = CarePlanRecordV3

        def migrate_entity_v1_to_v3(self, document: dict[str, Any]) -> dict[str, Any]:
            return document

    with pytest.raises(TypeError):
        SkippingRepository(db)
