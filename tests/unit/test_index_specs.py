"""Index specs: loading and checking the spec files, comparing declarations with
what a server reports, and the report a deploy prints. No database is used; the
server-side index descriptions below are shaped as mongod 6.0 returns them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wellness_repo.database.indexes import (
    CollectionIndexes,
    IndexDrift,
    IndexName,
    IndexReport,
    IndexSpec,
    UnknownIndex,
    compare_indexes,
    find_index_spec_directory,
    format_report,
    load_index_specs,
)
from wellness_repo.errors import RepositoryError, ValidationError

ROOT = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = ROOT / "scripts" / "setup_indexes.py"

USER_TIMELINE: dict[str, Any] = {
    "name": "user_timeline",
    "keys": {"user_id": 1, "created_at": -1, "_id": 1},
    "purpose": "one patient's mood entries, newest first",
}


def write_spec(
    directory: Path, collection: str, indexes: list[Any], **extra: Any
) -> Path:
    """Write ``<collection>.json`` into ``directory`` and return its path."""
    path = directory / f"{collection}.json"
    path.write_text(json.dumps({"collection": collection, **extra, "indexes": indexes}))
    return path


def declared(collection: str, *specs: IndexSpec) -> CollectionIndexes:
    """Declarations for one collection, as a loaded spec file would give them."""
    return CollectionIndexes(collection, None, specs)


def server_index(name: str, key: dict[str, Any], **options: Any) -> dict[str, Any]:
    """An index description as ``listIndexes`` returns it."""
    return {"v": 2, "key": key, "name": name, **options}


ID_INDEX = server_index("_id_", {"_id": 1})
EMAIL_LOOKUP = IndexSpec(
    "email_lookup",
    (("email", 1),),
    "find a user account by email, whatever its case",
    unique=True,
    collation={"locale": "en", "strength": 2},
)
SERVER_COLLATION_EN_2 = {
    "locale": "en",
    "caseLevel": False,
    "caseFirst": "off",
    "strength": 2,
    "numericOrdering": False,
    "alternate": "non-ignorable",
    "maxVariable": "punct",
    "normalization": False,
    "backwards": False,
    "version": "57.1",
}


# --- finding and loading spec files ---------------------------------------------


def test_shipped_specs_load_with_key_order_kept() -> None:
    specs = load_index_specs()

    mood_entries = next(spec for spec in specs if spec.collection == "mood_entries")
    timeline = next(i for i in mood_entries.indexes if i.name == "user_timeline")
    assert timeline.keys == (("user_id", 1), ("created_at", -1), ("_id", 1))
    assert mood_entries.shard_key == (("user_id", 1),)


def test_packaged_spec_directory_is_preferred_over_the_source_tree(
    tmp_path: Path,
) -> None:
    package = tmp_path / "wellness_repo"
    (package / "_index_specs").mkdir(parents=True)
    (tmp_path / "indexes").mkdir()

    found = find_index_spec_directory(package)

    assert found == package / "_index_specs"


def test_source_tree_spec_directory_is_used_when_nothing_is_packaged(
    tmp_path: Path,
) -> None:
    package = tmp_path / "wellness_repo"
    package.mkdir()
    (tmp_path / "indexes").mkdir()

    found = find_index_spec_directory(package)

    assert found == tmp_path / "indexes"


def test_missing_spec_directory_names_the_places_searched(tmp_path: Path) -> None:
    package = tmp_path / "wellness_repo"
    package.mkdir()

    with pytest.raises(RepositoryError) as raised:
        find_index_spec_directory(package)

    assert str(package / "_index_specs") in str(raised.value)
    assert str(tmp_path / "indexes") in str(raised.value)


def test_directory_without_spec_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="no index spec files"):
        load_index_specs(tmp_path)


def test_every_index_option_is_loaded(tmp_path: Path) -> None:
    write_spec(
        tmp_path,
        "crisis_detections",
        [
            {
                "name": "one_open_detection_per_patient",
                "keys": {"user_id": 1},
                "purpose": "a patient has at most one open crisis detection",
                "unique": True,
                "partial_filter": {"status": {"$eq": "open"}},
                "collation": {"locale": "en", "strength": 2},
            },
            {
                "name": "detection_expiry",
                "keys": {"expires_at": 1},
                "purpose": "resolved detections leave after their retention period",
                "sparse": True,
                "expire_after_seconds": 0,
            },
        ],
    )

    (specs,) = load_index_specs(tmp_path)

    open_detection, expiry = specs.indexes
    assert open_detection.unique is True
    assert open_detection.partial_filter == {"status": {"$eq": "open"}}
    assert open_detection.collation == {"locale": "en", "strength": 2}
    assert expiry.sparse is True
    assert expiry.expire_after_seconds == 0


# --- bad spec files -----------------------------------------------------------

BAD_INDEXES = [
    pytest.param(
        {**USER_TIMELINE, "purpose": ""},
        "required",
        "indexes[user_timeline].purpose",
        id="missing-purpose",
    ),
    pytest.param(
        {**USER_TIMELINE, "keys": {"user_id": 2}},
        "key_direction",
        "indexes[user_timeline].keys.user_id",
        id="bad-direction",
    ),
    pytest.param(
        {**USER_TIMELINE, "keys": {"user_id": True}},
        "key_direction",
        "indexes[user_timeline].keys.user_id",
        id="boolean-direction",
    ),
    pytest.param(
        {**USER_TIMELINE, "keys": {}},
        "required",
        "indexes[user_timeline].keys",
        id="no-keys",
    ),
    pytest.param(
        {**USER_TIMELINE, "keys": {"$where": 1}},
        "field_name",
        "indexes[user_timeline].keys.$where",
        id="operator-as-field",
    ),
    pytest.param(
        {**USER_TIMELINE, "uniqe": True},
        "unknown_field",
        "indexes[user_timeline].uniqe",
        id="misspelt-option",
    ),
    pytest.param(
        {**USER_TIMELINE, "unique": "yes"},
        "boolean",
        "indexes[user_timeline].unique",
        id="unique-not-boolean",
    ),
    pytest.param(
        {**USER_TIMELINE, "expire_after_seconds": 3600},
        "ttl_single_field",
        "indexes[user_timeline].expire_after_seconds",
        id="ttl-on-compound-index",
    ),
    pytest.param(
        {**USER_TIMELINE, "keys": {"created_at": 1}, "expire_after_seconds": 1.5},
        "ttl_seconds",
        "indexes[user_timeline].expire_after_seconds",
        id="ttl-not-whole-seconds",
    ),
    pytest.param(
        {**USER_TIMELINE, "keys": {"user_id": "hashed"}, "unique": True},
        "unique_hashed",
        "indexes[user_timeline].unique",
        id="unique-hashed",
    ),
    pytest.param(
        {**USER_TIMELINE, "sparse": True, "partial_filter": {"user_id": {"$gt": ""}}},
        "sparse_with_partial_filter",
        "indexes[user_timeline].sparse",
        id="sparse-with-partial-filter",
    ),
    pytest.param(
        {**USER_TIMELINE, "partial_filter": {}},
        "partial_filter_shape",
        "indexes[user_timeline].partial_filter",
        id="empty-partial-filter",
    ),
    pytest.param(
        {**USER_TIMELINE, "collation": {"strength": 2}},
        "required",
        "indexes[user_timeline].collation.locale",
        id="collation-without-locale",
    ),
    pytest.param(
        {**USER_TIMELINE, "collation": {"locale": "en", "strength": 9}},
        "collation_value",
        "indexes[user_timeline].collation.strength",
        id="collation-strength-out-of-range",
    ),
    pytest.param(
        {**USER_TIMELINE, "collation": {"locale": "simple"}},
        "simple_collation",
        "indexes[user_timeline].collation.locale",
        id="simple-collation",
    ),
    pytest.param(
        {**USER_TIMELINE, "keys": {"note": "text"}, "collation": {"locale": "en"}},
        "text_collation",
        "indexes[user_timeline].collation",
        id="text-index-with-collation",
    ),
    pytest.param(
        {**USER_TIMELINE, "keys": {"title": "text", "user_id": 1, "body": "text"}},
        "text_fields_adjacent",
        "indexes[user_timeline].keys",
        id="text-fields-apart",
    ),
    pytest.param(
        {**USER_TIMELINE, "name": "_id_"},
        "reserved_name",
        "indexes[0].name",
        id="reserved-name",
    ),
]


@pytest.mark.parametrize(("index", "rule", "location"), BAD_INDEXES)
def test_broken_index_rule_is_named_with_file_and_index(
    tmp_path: Path, index: dict[str, Any], rule: str, location: str
) -> None:
    path = write_spec(tmp_path, "mood_entries", [index])

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == rule
    assert raised.value.field == f"{path}:{location}"
    assert str(path) in str(raised.value)


def test_two_indexes_with_one_name_are_refused(tmp_path: Path) -> None:
    write_spec(tmp_path, "mood_entries", [USER_TIMELINE, USER_TIMELINE])

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "unique_name"


def test_two_indexes_the_server_would_treat_as_one_are_refused(
    tmp_path: Path,
) -> None:
    copy = {**USER_TIMELINE, "name": "timeline_again", "unique": True}
    write_spec(tmp_path, "mood_entries", [USER_TIMELINE, copy])

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "duplicate_definition"
    assert "timeline_again" in str(raised.value.field)


def test_second_text_index_in_a_collection_is_refused(tmp_path: Path) -> None:
    titles = {"name": "titles", "keys": {"title": "text"}, "purpose": "search titles"}
    bodies = {"name": "bodies", "keys": {"body": "text"}, "purpose": "search bodies"}
    write_spec(tmp_path, "resources", [titles, bodies])

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "one_text_index"


def test_file_named_for_another_collection_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "moods.json"
    path.write_text(json.dumps({"collection": "mood_entries", "indexes": []}))

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "file_name"
    assert "mood_entries.json" in str(raised.value)


def test_invalid_json_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "mood_entries.json"
    path.write_text('{"collection": "mood_entries",\n "indexes": [,]}')

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "json_syntax"
    assert raised.value.field == f"{path}:line 2"


def test_key_field_written_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mood_entries.json"
    path.write_text(
        '{"collection": "mood_entries", "indexes": [{"name": "user_timeline", '
        '"purpose": "timeline", "keys": {"user_id": 1, "user_id": -1}}]}'
    )

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "duplicate_member"
    assert "'user_id'" in str(raised.value)


def test_shard_key_with_a_descending_field_is_refused(tmp_path: Path) -> None:
    write_spec(tmp_path, "mood_entries", [USER_TIMELINE], shard_key={"user_id": -1})

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "shard_key_direction"


# --- comparing declarations with server index descriptions ------------------------


def test_missing_declared_index_is_to_be_created() -> None:
    declarations = declared("users", EMAIL_LOOKUP)

    plan = compare_indexes(declarations, [ID_INDEX])

    assert [planned.spec for planned in plan.to_create] == [EMAIL_LOOKUP]
    assert plan.unknown == ()


def test_collation_filled_with_locale_defaults_is_in_sync() -> None:
    on_server = server_index(
        "email_lookup", {"email": 1}, unique=True, collation=SERVER_COLLATION_EN_2
    )

    plan = compare_indexes(declared("users", EMAIL_LOOKUP), [ID_INDEX, on_server])

    assert plan.in_sync == (IndexName("users", "email_lookup"),)


def test_collation_attribute_the_spec_states_differently_is_drift() -> None:
    case_sensitive = {**SERVER_COLLATION_EN_2, "strength": 3}
    on_server = server_index(
        "email_lookup", {"email": 1}, unique=True, collation=case_sensitive
    )

    plan = compare_indexes(declared("users", EMAIL_LOOKUP), [on_server])

    (drift,) = plan.drifted
    assert drift.reason == "collation strength is 3 on the server but 2 in the spec"


def test_text_index_stored_as_fts_weights_is_in_sync() -> None:
    search = IndexSpec(
        "resource_search",
        (("language", 1), ("title", "text"), ("summary", "text")),
        "find self-help resources by words in their title or summary",
    )
    on_server = server_index(
        "resource_search",
        {"language": 1, "_fts": "text", "_ftsx": 1},
        weights={"summary": 1, "title": 1},
        default_language="english",
        language_override="language",
        textIndexVersion=3,
    )

    plan = compare_indexes(declared("resources", search), [on_server])

    assert plan.in_sync == (IndexName("resources", "resource_search"),)


def test_ttl_returned_as_a_float_is_in_sync() -> None:
    expiry = IndexSpec(
        "session_expiry",
        (("expires_at", 1),),
        "end idle sessions",
        expire_after_seconds=900,
    )
    on_server = server_index(
        "session_expiry", {"expires_at": 1}, expireAfterSeconds=900.0
    )

    plan = compare_indexes(declared("login_sessions", expiry), [on_server])

    assert plan.in_sync == (IndexName("login_sessions", "session_expiry"),)


def test_partial_filter_written_without_eq_is_in_sync() -> None:
    open_detection = IndexSpec(
        "one_open_detection_per_patient",
        (("user_id", 1),),
        "a patient has at most one open crisis detection",
        unique=True,
        partial_filter={"status": {"$eq": "open"}},
    )
    on_server = server_index(
        "one_open_detection_per_patient",
        {"user_id": 1},
        unique=True,
        partialFilterExpression={"status": "open"},
    )

    plan = compare_indexes(declared("crisis_detections", open_detection), [on_server])

    assert len(plan.in_sync) == 1


def test_changed_unique_option_is_drift_with_its_reason() -> None:
    on_server = server_index(
        "email_lookup", {"email": 1}, collation=SERVER_COLLATION_EN_2
    )

    plan = compare_indexes(declared("users", EMAIL_LOOKUP), [on_server])

    assert plan.drifted == (
        IndexDrift(
            "users",
            "email_lookup",
            "unique is false on the server but true in the spec",
        ),
    )


def test_same_name_with_other_keys_is_drift() -> None:
    on_server = server_index(
        "email_lookup", {"username": 1}, unique=True, collation=SERVER_COLLATION_EN_2
    )

    plan = compare_indexes(declared("users", EMAIL_LOOKUP), [on_server])

    (drift,) = plan.drifted
    assert drift.reason.startswith(
        "keys are (username: 1) on the server but (email: 1) in the spec"
    )


def test_declared_keys_under_another_name_are_drift_not_unknown() -> None:
    on_server = server_index(
        "email_1", {"email": 1}, unique=True, collation=SERVER_COLLATION_EN_2
    )

    plan = compare_indexes(declared("users", EMAIL_LOOKUP), [ID_INDEX, on_server])

    (drift,) = plan.drifted
    assert drift.reason == "its keys are on the server as index 'email_1'"
    assert plan.to_create == ()
    assert plan.unknown == ()


def test_server_option_the_spec_does_not_declare_is_drift() -> None:
    hidden = server_index(
        "email_lookup",
        {"email": 1},
        unique=True,
        collation=SERVER_COLLATION_EN_2,
        hidden=True,
    )

    plan = compare_indexes(declared("users", EMAIL_LOOKUP), [hidden])

    (drift,) = plan.drifted
    assert "option hidden=true" in drift.reason


def test_undeclared_index_is_unknown_and_the_id_index_is_ignored() -> None:
    legacy = server_index("legacy_rating", {"user_id": 1, "mood_rating": 1})

    plan = compare_indexes(declared("mood_entries"), [ID_INDEX, legacy])

    assert plan.unknown == (
        UnknownIndex(
            "mood_entries", "legacy_rating", (("user_id", 1), ("mood_rating", 1))
        ),
    )


# --- the report ---------------------------------------------------------------


def test_report_lists_each_collection_with_what_was_created() -> None:
    report = IndexReport(
        created=(IndexName("mood_entries", "user_timeline"),),
        in_sync=(IndexName("users", "email_lookup"),),
    )

    text = format_report(report)

    assert "  mood_entries\n    created    user_timeline" in text
    assert "  users\n    in sync    email_lookup" in text
    assert text.endswith("The database matches the index specs.")


def test_report_gives_each_drift_its_reason() -> None:
    drift = IndexDrift(
        "users", "email_lookup", "unique is false on the server but true in the spec"
    )

    text = format_report(IndexReport(drifted=(drift,)))

    assert (
        "DRIFT      email_lookup: unique is false on the server but true in the spec"
        in text
    )
    assert "never changed automatically" in text


def test_dry_run_report_says_nothing_changed_and_what_would_be_created() -> None:
    report = IndexReport(
        created=(IndexName("mood_entries", "user_timeline"),), dry_run=True
    )

    text = format_report(report)

    assert text.startswith("Index plan (dry run, nothing changed)")
    assert "to create  user_timeline" in text
    assert "The database does not match the index specs." in text


def test_unknown_index_shows_its_keys() -> None:
    legacy = UnknownIndex(
        "mood_entries", "legacy_rating", (("user_id", 1), ("mood_rating", 1))
    )

    text = format_report(IndexReport(unknown=(legacy,)))

    assert "UNKNOWN    legacy_rating (user_id: 1, mood_rating: 1)" in text


def test_dropped_unknown_indexes_no_longer_count_against_the_specs() -> None:
    legacy = UnknownIndex("mood_entries", "legacy_rating", (("user_id", 1),))

    report = IndexReport(unknown=(legacy,), dropped=(legacy.index_name,))

    assert report.matches_specs


def test_dry_run_that_would_create_does_not_match_the_specs() -> None:
    report = IndexReport(
        created=(IndexName("mood_entries", "user_timeline"),), dry_run=True
    )

    assert not report.matches_specs


# --- the deploy script, where no server is needed ----------------------------------


def run_setup_script(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/setup_indexes.py without any WELLNESS_* settings inherited."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("WELLNESS_")
    }
    return subprocess.run(
        [sys.executable, str(SETUP_SCRIPT), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def test_script_without_a_uri_refuses_to_run() -> None:
    result = run_setup_script("--check")

    assert result.returncode == 2
    assert "WELLNESS_MONGODB_URI" in result.stderr


def test_script_rejects_a_bad_spec_before_connecting(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "mood_entries", [{**USER_TIMELINE, "purpose": ""}])

    # Port 9 has no MongoDB; reaching it would take the 30 s selection timeout.
    result = run_setup_script(
        "--uri", "mongodb://127.0.0.1:9", "--specs", str(tmp_path)
    )

    assert result.returncode == 2
    assert str(path) in result.stderr
    assert "rule: required" in result.stderr
