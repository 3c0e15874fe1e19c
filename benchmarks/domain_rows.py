"""The issue-8 rows beyond the foundation's four: ``list_all`` with filters, a
sort and a count; ``analyze_mood_trends``; ``calculate_adherence`` (only when
the medications repository exists); an audit append.

Each row runs over a connection ``bench_scale.py`` opened (pipeline on: the
default stages; pipeline off: the placeholder stages), after
``repository_rows.compare_repository`` has seeded the mood entries it reads.
The raw side is the same ``repository_rows.RawSide`` as the foundation rows:
the driver alone, or the driver plus field decryption and one HMAC-chained
audit entry per call (``raw_secure_side.EncryptedAuditedDriver``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from measuring import Row, compare, per_call, progress, ratio_row
from mood_records import BUSY_PATIENT, SINGLE_CALLS
from raw_secure_side import (
    RAW_AUDIT_COLLECTION,
    EncryptedAuditedDriver,
    RawAuditTrail,
    query_shape,
)
from repository_rows import RawSide, mood_pipeline, repository_filter, same_records
from scale_rows import CommandCapture, raw_program

from wellness_repo import (
    AccessContext,
    DatabaseManager,
    MoodEntry,
    QueryOptions,
    compile_filters,
    create_audit_log_repository,
    create_mood_entry_repository,
)
from wellness_repo.analysis.mood_trend_results import TrendWindow
from wellness_repo.models.audit import AuditLog
from wellness_repo.query.compiler import compile_sort
from wellness_repo.repositories.mood_trends import (
    entries_match,
    trend_pipeline,
    trends_from_rows,
)
from wellness_repo.security.audit_chain import resolve_audit_key

PAGE = 100
"""Records per page of the filtered ``list_all`` row."""
TREND_DAYS = 90
ADHERENCE_DAYS = 90
MEDICATIONS_MODULE = "wellness_repo.repositories.medications"


def agree(first: Any, second: Any) -> bool:
    """Whether two analyses agree, floats to 1e-9 relative: the server sums a
    group's values in whatever order it meets them, so means may differ in
    their last bits between two runs of the same aggregation."""
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        return type(first) is type(second) and agree(
            dataclasses.asdict(first), dataclasses.asdict(second)
        )
    if isinstance(first, dict) and isinstance(second, dict):
        return first.keys() == second.keys() and all(
            agree(first[key], second[key]) for key in first
        )
    if isinstance(first, list | tuple) and isinstance(second, list | tuple):
        return len(first) == len(second) and all(
            agree(one, other) for one, other in zip(first, second, strict=True)
        )
    if isinstance(first, float) and isinstance(second, float):
        return math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-12)
    return bool(first == second)


async def raw_read_audit(
    side: RawSide, ids: list[str], patients: list[str], query: dict[str, Any]
) -> None:
    """The raw side's audit entry for one read, when the side audits at all."""
    if isinstance(side, EncryptedAuditedDriver):
        await side.trail.append("read", ids, patients, query_shape(query))


async def bench_filtered_list(
    db: DatabaseManager,
    side: RawSide,
    context: AccessContext,
    repeats: int,
    *,
    label: str,
) -> Row:
    """One page of a patient's better days of the last 60, newest first, with
    the count of all of them: ``list_all`` against ``find`` + ``count_documents``.
    """
    repository = mood_pipeline(db)
    since = datetime.now(UTC) - timedelta(days=60)
    lookups = {"user_id": BUSY_PATIENT, "created_at__gte": since, "mood_rating__gte": 3}
    order_by = ["-created_at"]
    compiled = compile_filters(MoodEntry, lookups).filter
    query = await repository_filter(repository, context, compiled)
    sort = compile_sort(MoodEntry, order_by)
    options = QueryOptions(
        filters=lookups, order_by=order_by, limit=PAGE, include_count=True
    )

    async def raw() -> tuple[list[dict[str, Any]], int]:
        # The repository asks for one more record to know whether more follow.
        found = await side.find_many(query, sort, PAGE + 1)
        total: int = await side.collection.count_documents(query)
        return found[:PAGE], total

    async def through_repository() -> tuple[list[MoodEntry], int | None]:
        page = await repository.list_all(options)
        return page.items, page.total_count

    (raw_found, raw_total), (records, total) = await raw(), await through_repository()
    if total != raw_total or not same_records(records, raw_found):
        raise SystemExit("filtered list_all and the raw find + count differ")
    raw_times, repository_times = await compare(repeats, raw, through_repository)
    return ratio_row(
        f"list_all, filters + sort + count, page of {PAGE}{label}",
        raw_times,
        repository_times,
        unit="ms",
        target=None,
    )


async def bench_mood_trends(
    db: DatabaseManager,
    side: RawSide,
    context: AccessContext,
    repeats: int,
    *,
    label: str,
) -> Row:
    """``analyze_mood_trends`` of the busy patient over 90 days against the same
    aggregation sent by the driver and the same pure analysis of its rows."""
    repository = create_mood_entry_repository(db)
    as_of = datetime.now(UTC)
    window = TrendWindow.ending_at(as_of, TREND_DAYS)
    match = entries_match(BUSY_PATIENT, window.previous_start, window.end)
    query = await repository_filter(mood_pipeline(db), context, match)
    stages = [{"$match": query}, *trend_pipeline(window)]

    async def raw() -> Any:
        cursor = await side.collection.aggregate(stages)
        rows = await cursor.to_list(None)
        await raw_read_audit(side, [], [BUSY_PATIENT], query)
        return trends_from_rows(rows, window)

    async def through_repository() -> Any:
        return await repository.analyze_mood_trends(
            BUSY_PATIENT, TREND_DAYS, as_of=as_of
        )

    if not agree(await raw(), await through_repository()):
        raise SystemExit("analyze_mood_trends and the raw aggregation differ")
    raw_times, repository_times = await compare(repeats, raw, through_repository)
    return ratio_row(
        f"analyze_mood_trends, {TREND_DAYS} days of one patient{label}",
        raw_times,
        repository_times,
        unit="ms",
        target=None,
    )


async def bench_audit_append(
    db: DatabaseManager,
    side: RawSide,
    context: AccessContext,
    repeats: int,
    *,
    label: str,
) -> Row:
    """``AuditLogRepository.log_action`` against an HMAC-chained insert with the
    driver (``raw_secure_side.RawAuditTrail``), ``SINGLE_CALLS`` in sequence."""
    audit = create_audit_log_repository(db)
    if isinstance(side, EncryptedAuditedDriver):
        trail = side.trail
    else:
        trail = RawAuditTrail(
            db.database[RAW_AUDIT_COLLECTION], resolve_audit_key(db.settings), context
        )
        await trail.copy_indexes(db.collection(AuditLog))
    ids = [f"mood_{number:06d}" for number in range(SINGLE_CALLS)]

    async def raw() -> None:
        for entry_id in ids:
            await trail.append("export", [entry_id], [BUSY_PATIENT])

    async def through_repository() -> None:
        for entry_id in ids:
            await audit.log_action(
                "benchmark",
                "export",
                "MoodEntry",
                entry_id,
                "Exported a mood entry for the care team's weekly review",
                patient_id=BUSY_PATIENT,
            )

    raw_times, repository_times = await compare(repeats, raw, through_repository)
    return ratio_row(
        f"audit append, per call ({SINGLE_CALLS} sequential){label}",
        per_call(raw_times, SINGLE_CALLS),
        per_call(repository_times, SINGLE_CALLS),
        unit="us",
        target=None,
    )


async def bench_adherence(
    db: DatabaseManager,
    side: RawSide,
    capture: CommandCapture,
    repeats: int,
    *,
    label: str,
) -> list[Row]:
    """``calculate_adherence`` over 90 days of a once-daily prescription with a
    logged dose each day, against the same queries (captured from the
    repository's own call) sent by the driver: the medications ``find`` and
    the dose-tally aggregation, plus the raw side's audit entry after each.
    The raw side does not decrypt the medications' encrypted fields nor run
    the pure adherence arithmetic, so its ratio is an upper bound.

    No row (and a note on stderr) without ``wellness_repo.repositories.
    medications``."""
    if importlib.util.find_spec(MEDICATIONS_MODULE) is None:
        progress(f"calculate_adherence{label}: not measured, no {MEDICATIONS_MODULE}")
        return []
    # Imported here: the medication names exist only once that module landed.
    from wellness_repo import (
        DoseSchedule,
        Medication,
        MedicationForm,
        create_medication_repository,
    )

    repository = create_medication_repository(db)
    today = datetime.now(UTC).date()
    medication = await repository.create(
        Medication(
            patient_id=BUSY_PATIENT,
            medication_name="Sertraline",
            strength="50mg",
            form=MedicationForm.TABLET,
            prescribed_dosage="50mg once daily",
            schedule=DoseSchedule(times_per_day=1, time_zone="UTC"),
            prescriber_id="psychiatrist_789",
            start_date=today - timedelta(days=ADHERENCE_DAYS + 5),
            indication="Major depressive disorder, recurrent",
        )
    )
    slot = medication.schedule.times[0] if medication.schedule.times else "08:00"
    hour, minute = (int(part) for part in slot.split(":"))
    for back in range(1, ADHERENCE_DAYS + 1):
        day = today - timedelta(days=back)
        due = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
        status = "missed" if back % 7 == 0 else "taken"
        await repository.record_dose(
            medication.id,
            status,
            scheduled_for=due,
            taken_at=due + timedelta(minutes=10) if status == "taken" else None,
        )
    as_of = datetime.now(UTC)

    async def through_repository() -> Any:
        return await repository.calculate_adherence(
            BUSY_PATIENT, ADHERENCE_DAYS, as_of=as_of
        )

    async def audit() -> None:
        await raw_read_audit(side, [], [BUSY_PATIENT], {"patient_id": BUSY_PATIENT})

    raw = await raw_program(
        db, capture, through_repository, "medications", "dose_logs", after_each=audit
    )
    progress(f"calculate_adherence{label}: x {repeats}")
    raw_times, repository_times = await compare(repeats, raw, through_repository)
    return [
        ratio_row(
            f"calculate_adherence, {ADHERENCE_DAYS} days of one patient{label}",
            raw_times,
            repository_times,
            unit="ms",
            target=None,
        )
    ]


async def domain_rows(
    db: DatabaseManager,
    side: RawSide,
    context: AccessContext,
    capture: CommandCapture,
    repeats: int,
    *,
    label: str,
) -> list[Row]:
    """Every row of this module, over mood entries already seeded for reads."""
    progress(f"list_all with filters and count{label}: x {repeats}")
    rows = [await bench_filtered_list(db, side, context, repeats, label=label)]
    progress(f"analyze_mood_trends{label}: x {repeats}")
    rows.append(await bench_mood_trends(db, side, context, repeats, label=label))
    rows += await bench_adherence(db, side, capture, repeats, label=label)
    progress(f"audit append{label}: {SINGLE_CALLS} calls x {repeats}")
    rows.append(await bench_audit_append(db, side, context, repeats, label=label))
    return rows
