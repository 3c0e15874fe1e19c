"""The local master key from settings: a configured key is used as given, a
malformed one is refused by name, and without one a development key is used
(announced once) unless keys are required."""

from __future__ import annotations

import logging
import os

import pytest

from tests.support.encryption import master_key_text
from wellness_repo import Settings, ValidationError
from wellness_repo.security import master_keys
from wellness_repo.security.master_keys import decode_master_key, local_kms_providers

MASTER_KEY = os.urandom(96)


def test_a_configured_key_is_used_as_given() -> None:
    settings = Settings(local_master_key=master_key_text(MASTER_KEY))

    providers = local_kms_providers(settings)

    assert providers == {"local": {"key": MASTER_KEY}}


def test_without_a_key_the_development_key_is_used() -> None:
    first = local_kms_providers(Settings(local_master_key=None))

    second = local_kms_providers(Settings(local_master_key=None))

    assert first == second
    assert len(first["local"]["key"]) == 96


def test_the_development_key_is_announced_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(master_keys, "_warned", False)
    caplog.set_level(logging.WARNING, logger="wellness_repo.encryption")

    local_kms_providers(Settings(local_master_key=None))
    local_kms_providers(Settings(local_master_key=None))

    warnings = [r for r in caplog.records if "development master key" in r.message]
    assert len(warnings) == 1


def test_required_keys_refuse_the_development_key() -> None:
    with pytest.raises(ValidationError) as refused:
        local_kms_providers(Settings(local_master_key=None, require_keys=True))

    assert (refused.value.field, refused.value.rule) == ("local_master_key", "required")


def test_a_key_that_is_not_base64_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        decode_master_key("not base64 at all!")

    assert refused.value.rule == "base64_96_bytes"


def test_a_key_of_the_wrong_length_is_refused_without_echoing_it() -> None:
    short = master_key_text(MASTER_KEY[:64])

    with pytest.raises(ValidationError) as refused:
        decode_master_key(short, field="WELLNESS_NEXT_KEY")

    assert refused.value.field == "WELLNESS_NEXT_KEY"
    assert short not in str(refused.value)
