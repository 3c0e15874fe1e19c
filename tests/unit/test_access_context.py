"""Access contexts built from sign-in accounts, break-glass validation, and the
access table, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.access_data import Account
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    PurposeOfUse,
    UserAccount,
    UserRole,
    ValidationError,
)
from wellness_repo.models.registry import DOCUMENT_MODELS
from wellness_repo.models.sessions import TherapySession
from wellness_repo.security.access_rules import (
    GRANTS,
    AccessRule,
    Reach,
    RecordKind,
    reach_of,
)
from wellness_repo.security.context import context_for_account
from wellness_repo.security.policy import Operation
from wellness_repo.security.role_policy import RolePolicy

REASON = "Patient reported an overdose on the crisis line"


def emergency(**changes: object) -> AccessContext:
    values: dict[str, object] = {
        "actor_id": "psychiatrist_555",
        "role": UserRole.PSYCHIATRIST,
        "purpose": PurposeOfUse.EMERGENCY,
        "emergency_reason": REASON,
        "expires_at": datetime.now(UTC) + timedelta(minutes=30),
    }
    values.update(changes)
    return AccessContext(**values)  # type: ignore[arg-type]


# ------------------------------------------------------- contexts from accounts


def test_a_patient_acts_under_her_patient_id() -> None:
    context = context_for_account(Account("patient_123", UserRole.PATIENT))

    assert (context.actor_id, context.account_id) == ("patient_123", "patient_123")
    assert context.provider_id is None


def test_a_clinician_acts_under_their_provider_id() -> None:
    account = Account("account_77", UserRole.THERAPIST, provider_id="therapist_456")

    context = context_for_account(account)

    assert (context.actor_id, context.account_id) == ("therapist_456", "account_77")
    assert context.provider_id == "therapist_456"


def test_an_admin_acts_under_their_account_id() -> None:
    context = context_for_account(Account("account_admin_007", UserRole.ADMIN))

    assert context.actor_id == "account_admin_007"
    assert context.role is UserRole.ADMIN


def test_a_role_given_by_name_is_accepted() -> None:
    role_name: Any = "auditor"  # as a sign-in service may pass it, untyped

    context = context_for_account(Account("account_9", role_name))

    assert context.role is UserRole.AUDITOR


def test_a_context_carries_the_purpose_asked_for() -> None:
    account = Account("patient_123", UserRole.PATIENT)

    context = context_for_account(account, purpose=PurposeOfUse.PATIENT_REQUEST)

    assert context.purpose is PurposeOfUse.PATIENT_REQUEST


@pytest.mark.parametrize(
    ("account", "field", "rule"),
    [
        (
            Account("account_77", UserRole.NURSE),
            "provider_id",
            "required_for_clinicians",
        ),
        (
            Account("patient_123", UserRole.PATIENT, provider_id="therapist_456"),
            "provider_id",
            "clinicians_only",
        ),
        (Account("batch_job", UserRole.SYSTEM), "role", "not_for_accounts"),
        (Account("account_5", "superuser"), "role", "enum"),  # type: ignore[arg-type]
    ],
    ids=["clinician_without_provider", "patient_with_provider", "system", "unknown"],
)
def test_an_account_that_cannot_act_gets_a_clear_error(
    account: Account, field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        context_for_account(account)

    assert (raised.value.field, raised.value.rule) == (field, rule)


# ---------------------------------------------------------------- break-glass


def test_a_break_glass_grant_is_recognisable() -> None:
    grant = emergency()

    assert grant.is_break_glass
    assert grant.emergency_reason == REASON


@pytest.mark.parametrize("reason", [None, "", "   "], ids=["none", "empty", "blank"])
def test_break_glass_without_a_reason_is_refused(reason: str | None) -> None:
    with pytest.raises(ValidationError) as raised:
        emergency(emergency_reason=reason)

    assert (raised.value.field, raised.value.rule) == ("emergency_reason", "required")
    assert REASON not in str(raised.value)


def test_break_glass_without_an_expiry_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        emergency(expires_at=None)

    assert (raised.value.field, raised.value.rule) == ("expires_at", "required")


def test_break_glass_longer_than_the_maximum_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        emergency(expires_at=datetime.now(UTC) + timedelta(minutes=61))

    assert (raised.value.field, raised.value.rule) == ("expires_at", "maximum")


def test_the_break_glass_maximum_comes_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WELLNESS_BREAK_GLASS_MAX_MINUTES", "15")

    with pytest.raises(ValidationError) as raised:
        emergency(expires_at=datetime.now(UTC) + timedelta(minutes=20))

    assert raised.value.rule == "maximum"


def test_a_long_emergency_reason_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        emergency(emergency_reason="x" * 501)

    assert (raised.value.field, raised.value.rule) == ("emergency_reason", "max_length")


@pytest.mark.parametrize("role", [UserRole.PATIENT, UserRole.ADMIN, UserRole.AUDITOR])
def test_break_glass_is_for_clinicians_only(role: UserRole) -> None:
    with pytest.raises(ValidationError) as raised:
        emergency(actor_id="someone_1", role=role)

    assert (raised.value.field, raised.value.rule) == ("role", "clinicians_only")


def test_an_emergency_reason_without_the_emergency_purpose_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        emergency(purpose=PurposeOfUse.TREATMENT)

    assert (raised.value.field, raised.value.rule) == (
        "emergency_reason",
        "emergency_only",
    )


def test_break_glass_by_default_lasts_the_maximum() -> None:
    before = datetime.now(UTC)

    grant = AccessContext.break_glass("nurse_314", UserRole.NURSE, REASON)

    assert grant.expires_at is not None
    lasts = grant.expires_at - before
    assert timedelta(minutes=59) < lasts <= timedelta(minutes=60, seconds=1)


def test_break_glass_for_no_time_at_all_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        AccessContext.break_glass("nurse_314", UserRole.NURSE, REASON, minutes=0)

    assert (raised.value.field, raised.value.rule) == ("minutes", "positive")


# ---------------------------------------------------------------- the table


def test_every_stored_model_declares_its_access_kind() -> None:
    undeclared = [
        model.__name__
        for model in DOCUMENT_MODELS
        if not isinstance(model.__dict__.get("ACCESS"), AccessRule)
    ]

    assert undeclared == []


def test_the_table_answers_for_every_kind_role_and_operation() -> None:
    missing = [
        (kind, role, operation)
        for kind in RecordKind
        for role in UserRole
        for operation in Operation
        if operation not in GRANTS[kind][role]
    ]

    assert missing == []


def test_nobody_changes_or_removes_audit_entries() -> None:
    writers = [
        (role, operation)
        for role in UserRole
        for operation in (Operation.UPDATE, Operation.DELETE)
        if GRANTS[RecordKind.AUDIT_TRAIL][role][operation] is not Reach.NONE
    ]

    assert writers == []


def test_only_system_contexts_append_audit_entries_as_records() -> None:
    appenders = [
        role
        for role in UserRole
        if GRANTS[RecordKind.AUDIT_TRAIL][role][Operation.CREATE] is not Reach.NONE
    ]

    assert appenders == [UserRole.SYSTEM]


def test_a_record_without_a_declared_kind_is_closed_to_people() -> None:
    reaches = {role: reach_of(None, role, Operation.READ) for role in UserRole}

    assert {role for role, reach in reaches.items() if reach is not Reach.NONE} == {
        UserRole.SYSTEM
    }


def test_a_rule_may_pin_only_identity_fields() -> None:
    with pytest.raises(ValueError, match="pinned_fields"):
        AccessRule(RecordKind.ACCOUNT, pinned_fields=("is_active",))


def test_only_patient_authored_records_can_be_shared() -> None:
    with pytest.raises(ValueError, match="patient-authored"):
        AccessRule(RecordKind.CLINICAL, shared_field="shared")


@pytest.mark.parametrize(
    ("role", "hidden"),
    [
        (UserRole.PATIENT, {"psychotherapy_notes", "psychotherapy_notes_author_id"}),
        (UserRole.CARE_COORDINATOR, {"session_notes"}),
        (UserRole.THERAPIST, set()),
        (UserRole.SYSTEM, set()),
    ],
)
def test_fields_hidden_from_every_session_depend_on_the_role(
    role: UserRole, hidden: set[str]
) -> None:
    context = AccessContext(actor_id="someone_1", role=role)

    assert RolePolicy().hidden_fields(TherapySession, context) == hidden


def test_other_clinicians_lose_only_notes_someone_else_wrote() -> None:
    context = AccessContext(actor_id="psychiatrist_789", role=UserRole.PSYCHIATRIST)
    redact = RolePolicy().redactor(TherapySession, context)
    assert redact is not None

    note = {"psychotherapy_notes": "Process note: grief work"}

    theirs = redact({**note, "psychotherapy_notes_author_id": "therapist_456"})
    mine = redact({**note, "psychotherapy_notes_author_id": "psychiatrist_789"})
    unnamed = redact(note)
    # A projection may keep the author alone, which says notes exist.
    author_alone = redact({"psychotherapy_notes_author_id": "therapist_456"})
    none_written = redact({"psychotherapy_notes_author_id": None})

    hidden = {"psychotherapy_notes", "psychotherapy_notes_author_id"}
    assert theirs == unnamed == author_alone == hidden
    assert mine == none_written == frozenset()


@pytest.mark.parametrize("field", ["is_active", "role", "provider_id"])
async def test_an_owner_may_not_change_what_only_an_admin_changes(field: str) -> None:
    patient = AccessContext(actor_id="patient_123", role=UserRole.PATIENT)

    with pytest.raises(AccessDeniedError) as raised:
        await RolePolicy().check_changes(UserAccount, patient, {"username", field})

    assert field in str(raised.value)


async def test_an_owner_may_change_the_rest_of_her_account() -> None:
    patient = AccessContext(actor_id="patient_123", role=UserRole.PATIENT)

    await RolePolicy().check_changes(UserAccount, patient, {"username", "email"})


async def test_an_admin_may_close_an_account() -> None:
    admin = AccessContext(actor_id="account_admin_007", role=UserRole.ADMIN)

    await RolePolicy().check_changes(UserAccount, admin, {"is_active"})
