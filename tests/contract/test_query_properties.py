"""The filter compiler, proved against a plain-Python reference on both backends.

Each property draws a set of care plans and a filter (or an order) for them,
stores the plans through the repository, and compares what the database returns
with what ``tests.support.reference`` says MongoDB's rules select. The filter
property runs once for every operator, so none is left to chance.

How hypothesis meets the async fixtures: ``@given`` cannot drive an async test
whose fixtures are function-scoped, so each test defines a plain ``@given``
function and runs it on a worker thread (``asyncio.to_thread``). That function
sends every database call back to the test's own event loop, which owns the
client, and waits for the answer. Hypothesis keeps all of its power this way:
a failing example is shrunk to the few plans and the lookup that matter.

The runs are derandomized: every run tries the same examples, so a red build is
always about the change under test, never about luck; the price is that CI does
not wander into new examples by itself. To search wider, run with, say,
``WELLNESS_QUERY_EXAMPLES=2000`` (default 150 per property; the filter property
gives each operator a sixth of that).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.support.care_plan_strategies import care_plan_sets
from tests.support.filter_strategies import FILTER_OPERATORS, filters, orderings
from tests.support.models import CarePlanRecord, Contact, Goal
from tests.support.reference import matches, ordered
from wellness_repo import (
    AsyncBaseRepository,
    DatabaseManager,
    Q,
    QueryOptions,
    compile_filters,
)

R = TypeVar("R")
Plans = AsyncBaseRepository[CarePlanRecord]

EXAMPLES = int(os.environ.get("WELLNESS_QUERY_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The filter property runs once per operator, so each gets its share of examples
# however hypothesis happens to spread its choices.
PER_OPERATOR = settings(PROPERTY, max_examples=max(1, EXAMPLES // 6))
LOOP_TIMEOUT_SECONDS = 120


def on_loop(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, R]) -> R:
    """Run ``work`` on the test's event loop from the hypothesis thread."""
    return asyncio.run_coroutine_threadsafe(work, loop).result(LOOP_TIMEOUT_SECONDS)


async def store_only(
    db: DatabaseManager, plans: Plans, records: Sequence[CarePlanRecord]
) -> list[dict[str, Any]]:
    """Make ``records`` the whole collection; return their stored forms.

    Emptying the collection between examples is test scaffolding, so it talks to
    the collection directly; the records themselves go through the repository.
    """
    await db.collection(CarePlanRecord).delete_many({})
    created = await plans.create_many(records)
    return [record.model_dump(by_alias=True) for record in created]


async def select(plans: Plans, where: Mapping[str, Any] | Q) -> tuple[list[str], int]:
    """The ids one listing returns for ``where``, and what counting them says."""
    listing = await plans.list_all(
        QueryOptions(filters=where, limit=plans.db.settings.max_page_size)
    )
    as_q = where if isinstance(where, Q) else Q.from_mapping(where)
    return [item.id for item in listing.items], await plans.count(as_q)


async def walk_pages(
    plans: Plans,
    where: Mapping[str, Any] | Q,
    order_by: list[str],
    size: int,
    records: int,
) -> list[list[str]]:
    """Every page of a listing, following ``next_cursor`` to the end.

    A cursor that fails to move forward would page for ever, so the walk stops
    once it has taken more pages than ``records`` stored records could fill.
    """
    pages: list[list[str]] = []
    after = None
    for _ in range(records // size + 2):
        page = await plans.list_all(
            QueryOptions(filters=where, order_by=order_by, limit=size, after=after)
        )
        pages.append([item.id for item in page.items])
        if not page.has_more:
            return pages
        assert page.next_cursor is not None
        after = page.next_cursor
    raise AssertionError(f"paging did not end; first pages: {pages[:4]}")


def describe(db: DatabaseManager, where: Mapping[str, Any] | Q) -> None:
    """Record the compiled filter in hypothesis' report of a failing example."""
    note(f"backend: {type(db.client).__name__}")
    note(f"compiled: {compile_filters(CarePlanRecord, where).filter!r}")


async def test_a_filter_selects_exactly_the_plans_the_reference_selects(
    db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(db, model=CarePlanRecord)
    loop = asyncio.get_running_loop()

    def check_filters_using(operator: str) -> None:
        @PER_OPERATOR
        @given(records=care_plan_sets(), where=filters(operator))
        def listing_and_count_agree_with_reference(
            records: list[CarePlanRecord], where: Mapping[str, Any] | Q
        ) -> None:
            describe(db, where)
            stored = on_loop(loop, store_only(db, plans, records))
            expected = sorted(doc["_id"] for doc in stored if matches(doc, where))

            listed, counted = on_loop(loop, select(plans, where))

            assert listed == expected
            assert counted == len(expected)

        listing_and_count_agree_with_reference()

    for operator in FILTER_OPERATORS:
        await asyncio.to_thread(check_filters_using, operator)


async def test_cursor_pages_join_into_the_single_listing_without_gaps_or_repeats(
    db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(db, model=CarePlanRecord)
    loop = asyncio.get_running_loop()
    everything = db.settings.max_page_size

    @PROPERTY
    @given(
        records=care_plan_sets(),
        order_by=orderings(),
        size=st.integers(1, 7),
        where=st.just({}) | filters(),
    )
    def pages_join_into_listing(
        records: list[CarePlanRecord],
        order_by: list[str],
        size: int,
        where: Mapping[str, Any] | Q,
    ) -> None:
        describe(db, where)
        on_loop(loop, store_only(db, plans, records))
        whole = on_loop(
            loop,
            plans.list_all(
                QueryOptions(filters=where, order_by=order_by, limit=everything)
            ),
        )

        pages = on_loop(loop, walk_pages(plans, where, order_by, size, len(records)))

        assert [plan_id for page in pages for plan_id in page] == [
            item.id for item in whole.items
        ]
        assert all(len(page) == size for page in pages[:-1])

    await asyncio.to_thread(pages_join_into_listing)


async def test_a_listing_is_ordered_by_its_fields_with_nulls_first_then_by_id(
    db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(db, model=CarePlanRecord)
    loop = asyncio.get_running_loop()
    everything = db.settings.max_page_size

    @PROPERTY
    @given(records=care_plan_sets(), order_by=orderings())
    def listing_follows_reference_order(
        records: list[CarePlanRecord], order_by: list[str]
    ) -> None:
        stored = on_loop(loop, store_only(db, plans, records))
        expected = [doc["_id"] for doc in ordered(stored, order_by)]

        listing = on_loop(
            loop, plans.list_all(QueryOptions(order_by=order_by, limit=everything))
        )

        assert [item.id for item in listing.items] == expected

    await asyncio.to_thread(listing_follows_reference_order)


# ------------------------------------- what the properties found, pinned down


@pytest.fixture
async def plans_with_and_without_contact(
    db: DatabaseManager,
) -> Plans:
    """Three plans: no contact, a contact without a phone, a contact with one."""
    plans = AsyncBaseRepository(db, model=CarePlanRecord)
    await plans.create_many(
        [
            CarePlanRecord(
                id="plan_001", patient_id="patient_101", title="Sleep hygiene plan"
            ),
            CarePlanRecord(
                id="plan_002",
                patient_id="patient_101",
                title="Relapse prevention",
                contact=Contact(name="Sam Okafor"),
            ),
            CarePlanRecord(
                id="plan_003",
                patient_id="patient_207",
                title="CBT for panic (phase 2)",
                contact=Contact(name="Dr. Ana Ruiz", phone="+1 555 0100"),
            ),
        ]
    )
    return plans


async def test_a_field_of_an_absent_contact_counts_as_null(
    plans_with_and_without_contact: Plans,
) -> None:
    plans = plans_with_and_without_contact

    without_phone = await plans.find_by(contact__phone__isnull=True)

    assert [plan.id for plan in without_phone] == ["plan_001", "plan_002"]


async def test_a_field_of_an_absent_contact_is_not_counted_as_present(
    plans_with_and_without_contact: Plans,
) -> None:
    plans = plans_with_and_without_contact

    named = await plans.count(contact__name__isnull=False)

    assert named == 2


async def test_cursor_pages_ordered_by_a_contact_field_reach_the_plan_without_one(
    plans_with_and_without_contact: Plans,
) -> None:
    plans = plans_with_and_without_contact

    pages = await walk_pages(plans, {}, ["contact__name"], 1, 3)

    assert pages == [["plan_001"], ["plan_003"], ["plan_002"]]


async def test_a_range_through_goals_needs_one_goal_within_both_bounds(
    db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(db, model=CarePlanRecord)
    await plans.create(
        CarePlanRecord(
            id="plan_001",
            patient_id="patient_101",
            title="Relapse prevention",
            goals=[
                Goal(code="walk 20 min", progress=10),
                Goal(code="journal daily", progress=90),
            ],
        )
    )

    matched = await plans.count(goals__progress__range=(40, 60))

    assert matched == 0
