"""Patient engagement: months of mood check-ins with realistic weekly rhythm, and
journal entries.

A patient's mood on a day is their baseline, plus a day-of-week effect (lowest
on Mondays, highest on Saturdays), plus the gain treatment brings over its first
twelve weeks, plus autocorrelated noise (a bad day tends to follow a bad day),
with a dip in the days around a seeded crisis.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from wellness_repo.analysis.journal_prompts import CBTTechnique, JournalType
from wellness_repo.models.engagement import MoodEntry, MoodType
from wellness_repo.models.journals import JournalEntry
from wellness_repo.seeding.generators.phrases import (
    JOURNAL_CLOSINGS,
    JOURNAL_OPENINGS,
    JOURNAL_TITLES,
    MOOD_FACTORS,
    MOOD_NOTES_HIGH,
    MOOD_NOTES_LOW,
    MOOD_TRIGGERS,
)
from wellness_repo.seeding.world import FixtureWorld, PatientProfile

__all__ = ["WEEKDAY_EFFECT", "daily_moods", "journal_entries", "mood_entries"]

WEEKDAY_EFFECT = (-0.8, -0.4, -0.1, 0.0, 0.3, 0.8, 0.6)
"""Points added to a patient's mood on Monday .. Sunday."""
_TREATMENT_WEEKS_TO_FULL_GAIN = 12
_NOISE_CARRY = 0.6


def daily_moods(world: FixtureWorld, profile: PatientProfile) -> dict[date, float]:
    """A patient's underlying mood (1-10, unrounded) on each day of history."""
    rng = world.random("mood-course", profile.index)
    moods: dict[date, float] = {}
    noise = 0.0
    for offset in range(world.history_days):
        day = world.first_day + timedelta(days=offset)
        noise = _NOISE_CARRY * noise + rng.gauss(0.0, 0.7 * profile.volatility)
        mood = profile.baseline + WEEKDAY_EFFECT[day.weekday()] + noise
        start = profile.treatment_start
        if start is not None and day >= start:
            weeks = (day - start).days / 7
            share = min(1.0, weeks / _TREATMENT_WEEKS_TO_FULL_GAIN)
            mood += profile.improvement * share
        if profile.crisis_day is not None:
            distance = (day - profile.crisis_day).days
            if -5 <= distance <= 3:
                mood -= 2.5 * (1 - abs(distance) / 6)
        moods[day] = min(10.0, max(1.0, mood))
    return moods


def mood_entries(world: FixtureWorld) -> Iterator[list[MoodEntry]]:
    """Each patient's mood check-ins: on most days (their adherence), usually in
    the evening, sometimes a second one in the morning."""
    for index in world.patient_indices():
        profile = world.profile(index)
        rng = world.random("mood-entries", index)
        entries = []
        for day, mood in daily_moods(world, profile).items():
            if rng.random() >= profile.adherence:
                continue
            entries.append(_mood_entry(world, profile, rng, day, mood, "evening"))
            if rng.random() < 0.1:
                entries.append(
                    _mood_entry(world, profile, rng, day, mood - 0.3, "morning")
                )
        yield entries


def _mood_entry(
    world: FixtureWorld,
    profile: PatientProfile,
    rng: random.Random,
    day: date,
    mood: float,
    part: str,
) -> MoodEntry:
    rating = max(1, min(10, round(mood + rng.gauss(0.0, 0.4))))
    band = "low" if rating <= 4 else "high" if rating >= 7 else "mid"
    hour = rng.randint(19, 22) if part == "evening" else rng.randint(7, 9)
    triggers: list[str] = []
    if band == "low" and rng.random() < 0.5:
        triggers = [
            MOOD_TRIGGERS[0] if day.weekday() == 0 else rng.choice(MOOD_TRIGGERS)
        ]
    notes = None
    if rng.random() < 0.15:
        notes = rng.choice(MOOD_NOTES_LOW if band == "low" else MOOD_NOTES_HIGH)
    return MoodEntry(
        id=world.id("mood", f"{profile.index}:{day.isoformat()}:{part}"),
        user_id=profile.patient_id,
        mood_rating=rating,
        mood_type=MoodType.GENERAL,
        contributing_factors=rng.sample(MOOD_FACTORS[band], rng.randint(1, 2)),
        triggers=triggers,
        energy_level=_side(rating + rng.gauss(0, 1.2)),
        anxiety_level=_side(11 - rating + rng.gauss(0, 1.5)),
        sleep_quality=_side(rating + rng.gauss(0, 2.0)),
        tags=[f"{part}-check-in"],
        notes=notes,
        created_at=world.at(day, hour, rng.randint(0, 59)),
    )


def _side(value: float) -> int:
    return max(1, min(10, round(value)))


_JOURNAL_KINDS = (
    (JournalType.FREE_WRITING, None),
    (JournalType.REFLECTION, None),
    (JournalType.GRATITUDE, CBTTechnique.GRATITUDE),
    (JournalType.HOMEWORK, CBTTechnique.BEHAVIORAL_ACTIVATION),
    (JournalType.GUIDED, CBTTechnique.MINDFULNESS),
)


def journal_entries(world: FixtureWorld) -> Iterator[list[JournalEntry]]:
    """Journal entries at each patient's own pace (none to a few a week), about
    a third shared with the care team. The wording carries no crisis language,
    so bulk loading raises no detections."""
    for index in world.patient_indices():
        profile = world.profile(index)
        rng = world.random("journal-entries", index)
        chance = profile.journals_per_week / 7
        entries = []
        for day, mood in daily_moods(world, profile).items():
            if rng.random() >= chance:
                continue
            kind, technique = rng.choice(_JOURNAL_KINDS)
            before = max(1, min(10, round(mood)))
            written = world.at(day, rng.randint(20, 22), rng.randint(0, 59))
            shared = rng.random() < 0.3
            entries.append(
                JournalEntry(
                    id=world.id("journal", f"{index}:{day.isoformat()}"),
                    user_id=profile.patient_id,
                    title=rng.choice(JOURNAL_TITLES),
                    content=f"{rng.choice(JOURNAL_OPENINGS)} "
                    f"{rng.choice(JOURNAL_CLOSINGS)}",
                    journal_type=kind,
                    cbt_technique=technique,
                    mood_before=before,
                    mood_after=min(10, before + rng.choice((0, 0, 1, 1, 2))),
                    tags=[kind.value.replace("_", "-")],
                    shared_with_care_team=shared,
                    shared_at=written if shared else None,
                    created_at=written,
                )
            )
        yield entries
