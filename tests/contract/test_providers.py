"""The provider network: credentials with one provider per licence, the specialty
directory, and the licence-renewal worklist, on both backends."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from tests.conftest import SYSTEM
from tests.support.care_data import (
    psychiatrist,
    stored_count,
    stored_document,
    unchecked_provider,
)
from wellness_repo import (
    BaseRepository,
    DatabaseManager,
    DuplicateError,
    NotFoundError,
    ValidationError,
    connect_sync,
)
from wellness_repo.models.care import NetworkStatus, Provider, ProviderType
from wellness_repo.repositories.care import ProviderRepository

TODAY = date(2026, 3, 2)


@pytest.fixture
def providers(db: DatabaseManager) -> ProviderRepository:
    return ProviderRepository(db)


def therapist(last_name: str, **changes: Any) -> Provider:
    """A licensed clinical social worker offering adult therapy, no licence on
    record unless given."""
    values: dict[str, Any] = {
        "first_name": "Alex",
        "last_name": last_name,
        "provider_type": ProviderType.LCSW,
        "specialties": ["Adult Therapy"],
        "accepting_new_patients": True,
    }
    values.update(changes)
    return Provider(**values)


# ------------------------------------------------------------------ records


async def test_the_seed_provider_is_stored_with_its_specialty_first(
    providers: ProviderRepository,
) -> None:
    provider = Provider(
        first_name="Dr. Sarah",
        last_name="Johnson",
        provider_type=ProviderType.PSYCHIATRIST,
        license_number="MD12345",
        specialty="Adult Psychiatry",
        accepting_new_patients=True,
    )

    stored = await providers.create(provider)

    assert stored.specialty == "Adult Psychiatry"
    assert stored.specialties == ["Adult Psychiatry"]
    assert await providers.get(stored.provider_id) == stored


async def test_specialty_shorthand_goes_before_the_listed_specialties(
    providers: ProviderRepository,
) -> None:
    provider = psychiatrist(
        specialty="Addiction Psychiatry",
        specialties=["Adult Psychiatry", "Addiction Psychiatry"],
    )

    stored = await providers.create(provider)

    assert stored.specialties == ["Addiction Psychiatry", "Adult Psychiatry"]


async def test_a_new_provider_is_pending_in_network_and_not_taking_patients(
    providers: ProviderRepository,
) -> None:
    provider = Provider(
        first_name="Maya", last_name="Chen", provider_type=ProviderType.PEER_SPECIALIST
    )

    stored = await providers.create(provider)

    assert stored.network_status is NetworkStatus.PENDING
    assert stored.accepting_new_patients is False


async def test_licence_number_and_state_are_stored_trimmed_and_upper_case(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    provider = psychiatrist(license_number="  md-12345 ", license_state=" ny")

    stored = await providers.create(provider)

    raw = await stored_document(db, Provider, stored.id)
    assert (raw["license_number"], raw["license_state"]) == ("MD-12345", "NY")


# --------------------------------------------------------- licence uniqueness


async def test_a_licence_registered_twice_in_one_state_is_refused(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    await providers.create(psychiatrist())

    with pytest.raises(DuplicateError) as raised:
        await providers.create(psychiatrist(first_name="Sarah"))

    assert raised.value.key == ("license_state", "license_number")
    assert await stored_count(db, Provider) == 1


async def test_licence_numbers_differing_in_case_and_spacing_collide(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    await providers.create(psychiatrist(license_number="MD12345"))

    with pytest.raises(DuplicateError):
        await providers.create(psychiatrist(license_number=" md12345 "))

    assert await stored_count(db, Provider) == 1


async def test_a_licence_without_a_state_collides_with_the_same_without_a_state(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    await providers.create(psychiatrist(license_state=None))

    with pytest.raises(DuplicateError):
        await providers.create(psychiatrist(license_state=None, last_name="Jones"))

    assert await stored_count(db, Provider) == 1


async def test_the_same_number_issued_by_two_states_is_two_licences(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    await providers.create(psychiatrist(license_state="NY"))

    await providers.create(psychiatrist(license_state="CA", last_name="Alvarez"))

    assert await stored_count(db, Provider) == 2


async def test_providers_without_a_licence_never_collide(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    await providers.create(therapist("Okafor"))

    await providers.create(therapist("Novak"))

    assert await stored_count(db, Provider) == 2


async def test_a_removed_providers_licence_can_be_registered_again(
    providers: ProviderRepository,
) -> None:
    mistaken = await providers.create(psychiatrist())
    await providers.delete(mistaken.id)

    stored = await providers.create(psychiatrist())

    assert await providers.get(stored.id) == stored


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"license_state": "XX"}, "license_state", "us_state_code"),
        ({"license_state": "New York"}, "license_state", "us_state_code"),
        ({"license_number": "MD 12345"}, "license_number", "license_number_format"),
        ({"license_number": "   "}, "license_number", "license_number_format"),
        ({"license_number": None}, "license_state", "license_number_required"),
        ({"first_name": ""}, "first_name", "string_too_short"),
        ({"specialties": [""]}, "specialties.0", "string_too_short"),
    ],
)
async def test_create_refuses_bad_credentials_and_writes_nothing(
    db: DatabaseManager,
    providers: ProviderRepository,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    provider = unchecked_provider(**changes)

    with pytest.raises(ValidationError) as raised:
        await providers.create(provider)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert await stored_count(db, Provider) == 0


def test_the_model_refuses_an_unknown_state_code_when_built() -> None:
    with pytest.raises(PydanticValidationError) as raised:
        psychiatrist(license_state="ZZ")

    assert raised.value.errors()[0]["type"] == "us_state_code"


def test_the_model_refuses_an_unknown_provider_type_when_built() -> None:
    with pytest.raises(PydanticValidationError) as raised:
        psychiatrist(provider_type="astrologer")

    assert raised.value.errors()[0]["type"] == "enum"


def test_a_licence_expiry_without_a_licence_number_is_refused_when_built() -> None:
    with pytest.raises(PydanticValidationError) as raised:
        psychiatrist(license_number=None, license_state=None)

    assert raised.value.errors()[0]["loc"] == ("license_expires_on",)


# ------------------------------------------------------- specialty directory


async def test_specialty_search_lists_that_specialty_in_name_order(
    providers: ProviderRepository,
) -> None:
    await providers.create(therapist("Young", specialties=["Adult Psychiatry"]))
    await providers.create(therapist("Adams", specialties=["Adult Psychiatry"]))
    await providers.create(therapist("Baker", specialties=["Child Psychiatry"]))

    found = await providers.find_providers_by_specialty(specialty="Adult Psychiatry")

    assert [provider.last_name for provider in found] == ["Adams", "Young"]


async def test_specialty_search_can_keep_only_providers_accepting_patients(
    providers: ProviderRepository,
) -> None:
    await providers.create(psychiatrist(accepting_new_patients=True))
    await providers.create(
        psychiatrist(accepting_new_patients=False, license_number="MD777")
    )

    found = await providers.find_providers_by_specialty(
        specialty="Adult Psychiatry", accepting_patients=True
    )

    assert [provider.license_number for provider in found] == ["MD12345"]


async def test_specialty_search_can_keep_only_full_caseloads(
    providers: ProviderRepository,
) -> None:
    await providers.create(psychiatrist(accepting_new_patients=True))
    await providers.create(
        psychiatrist(accepting_new_patients=False, license_number="MD777")
    )

    found = await providers.find_providers_by_specialty(
        "Adult Psychiatry", accepting_patients=False
    )

    assert [provider.license_number for provider in found] == ["MD777"]


async def test_specialty_search_can_keep_only_in_network_providers(
    providers: ProviderRepository,
) -> None:
    await providers.create(psychiatrist(network_status=NetworkStatus.IN_NETWORK))
    await providers.create(
        psychiatrist(network_status=NetworkStatus.OUT_OF_NETWORK, license_number="X1")
    )

    found = await providers.find_providers_by_specialty(
        "Adult Psychiatry", network_status=NetworkStatus.IN_NETWORK
    )

    assert [provider.license_number for provider in found] == ["MD12345"]


async def test_specialty_search_finds_a_specialty_listed_second(
    providers: ProviderRepository,
) -> None:
    await providers.create(
        psychiatrist(specialties=["Adult Psychiatry", "Geriatric Psychiatry"])
    )

    found = await providers.find_providers_by_specialty("Geriatric Psychiatry")

    assert len(found) == 1


async def test_specialty_search_does_not_match_a_subspecialty(
    providers: ProviderRepository,
) -> None:
    await providers.create(psychiatrist(subspecialties=["Perinatal Psychiatry"]))

    found = await providers.find_providers_by_specialty("Perinatal Psychiatry")

    assert found == []


async def test_specialty_search_returns_every_match_past_one_page(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    db.settings = db.settings.model_copy(update={"max_page_size": 2})
    for name in ("Ito", "Grant", "Hale", "Diaz", "Ford"):
        await providers.create(therapist(name))

    found = await providers.find_providers_by_specialty("Adult Therapy")

    assert [p.last_name for p in found] == ["Diaz", "Ford", "Grant", "Hale", "Ito"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"specialty": "  "}, "specialty"),
        ({"specialty": None}, "specialty"),
        ({"specialty": "Trauma", "accepting_patients": "yes"}, "accepting_patients"),
        ({"specialty": "Trauma", "network_status": "preferred"}, "network_status"),
    ],
)
async def test_specialty_search_refuses_bad_arguments(
    providers: ProviderRepository, arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        await providers.find_providers_by_specialty(**arguments)

    assert raised.value.field == field


# ------------------------------------------------------------ licence renewal


async def test_expiring_licences_are_listed_soonest_first(
    providers: ProviderRepository,
) -> None:
    for number, expires in [
        ("LATE", TODAY + timedelta(days=45)),
        ("SOON", TODAY + timedelta(days=3)),
        ("LAST", TODAY + timedelta(days=30)),
        ("GONE", TODAY - timedelta(days=1)),
    ]:
        await providers.create(
            psychiatrist(license_number=number, license_expires_on=expires)
        )
    await providers.create(therapist("Unlicensed"))

    found = await providers.licenses_expiring_within(30, today=TODAY)

    assert [provider.license_number for provider in found] == ["SOON", "LAST"]


async def test_a_licence_expiring_today_is_in_the_worklist(
    providers: ProviderRepository,
) -> None:
    await providers.create(psychiatrist(license_expires_on=TODAY))

    found = await providers.licenses_expiring_within(0, today=TODAY)

    assert len(found) == 1


async def test_expired_licences_are_listed_when_asked_for(
    providers: ProviderRepository,
) -> None:
    await providers.create(
        psychiatrist(license_number="GONE", license_expires_on=date(2025, 1, 31))
    )
    await providers.create(
        psychiatrist(license_number="SOON", license_expires_on=TODAY)
    )

    found = await providers.licenses_expiring_within(
        7, today=TODAY, include_expired=True
    )

    assert [provider.license_number for provider in found] == ["GONE", "SOON"]


async def test_the_worklist_counts_from_todays_date_by_default(
    providers: ProviderRepository,
) -> None:
    today = datetime.now(UTC).date()
    await providers.create(psychiatrist(license_expires_on=today + timedelta(days=5)))

    found = await providers.licenses_expiring_within(5)

    assert len(found) == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"days": -1}, "days"),
        ({"days": 3651}, "days"),
        ({"days": True}, "days"),
        ({"days": "30"}, "days"),
        ({"days": 30, "today": datetime(2026, 3, 2, tzinfo=UTC)}, "today"),
    ],
)
async def test_the_expiry_worklist_refuses_bad_arguments(
    providers: ProviderRepository, arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        await providers.licenses_expiring_within(**arguments)

    assert raised.value.field == field


async def test_renewing_a_licence_records_its_new_expiry(
    providers: ProviderRepository,
) -> None:
    provider = await providers.create(psychiatrist())
    renewed_until = datetime.now(UTC).date() + timedelta(days=730)

    renewed = await providers.renew_license(provider.id, renewed_until)

    assert renewed.license_expires_on == renewed_until
    assert await providers.get(provider.id) == renewed


async def test_a_renewal_into_the_past_is_refused_and_changes_nothing(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    provider = await providers.create(psychiatrist())
    before = await stored_document(db, Provider, provider.id)

    with pytest.raises(ValidationError) as raised:
        await providers.renew_license(provider.id, date(2020, 1, 1))

    assert raised.value.rule == "future_date"
    assert await stored_document(db, Provider, provider.id) == before


async def test_a_provider_without_a_licence_cannot_renew_one(
    db: DatabaseManager, providers: ProviderRepository
) -> None:
    provider = await providers.create(therapist("Okafor"))
    before = await stored_document(db, Provider, provider.id)

    with pytest.raises(ValidationError) as raised:
        await providers.renew_license(provider.id, date(2099, 1, 1))

    assert raised.value.rule == "license_number_required"
    assert await stored_document(db, Provider, provider.id) == before


async def test_a_renewal_given_a_datetime_is_refused(
    providers: ProviderRepository,
) -> None:
    provider = await providers.create(psychiatrist())

    with pytest.raises(ValidationError) as raised:
        await providers.renew_license(provider.id, datetime(2099, 1, 1, tzinfo=UTC))

    assert raised.value.rule == "date_type"


async def test_renewing_an_unknown_providers_licence_is_not_found(
    providers: ProviderRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await providers.renew_license("provider_missing", date(2099, 1, 1))


async def test_provider_work_logs_no_names(
    providers: ProviderRepository, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = await providers.create(psychiatrist())
    await providers.renew_license(provider.id, date(2099, 1, 1))
    await providers.find_providers_by_specialty("Adult Psychiatry")
    with pytest.raises(DuplicateError):
        await providers.create(psychiatrist())

    logged = "\n".join(record.getMessage() for record in caplog.records)

    assert provider.id in logged
    for secret in ("Sarah", "Johnson", "MD12345"):
        assert secret not in logged


def test_the_seed_calls_work_blocking_through_the_sync_facade() -> None:
    with connect_sync(context=SYSTEM) as db:
        repo: BaseRepository[Provider] = BaseRepository(
            ProviderRepository(db.manager), db
        )
        provider = repo.create(psychiatrist())

        psychiatrists = repo.find_providers_by_specialty(
            specialty="Adult Psychiatry", accepting_patients=True
        )

    assert psychiatrists == [provider]
