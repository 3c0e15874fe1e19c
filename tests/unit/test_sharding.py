"""Sharding from the index specs: the exact admin commands ``--shard`` sends to a
mongos, its refusal of anything else, idempotence, drift, dry runs, the checks of
each shard key against the declared indexes, and the cluster consistency settings.

No mongos is needed: a recording stand-in answers ``hello`` and the sharded keys.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pydantic
import pytest

from tests.support.shard_targeting import Routing, routing
from wellness_repo.config import PRIMARY_READ_COLLECTIONS, Settings
from wellness_repo.database.index_specs import (
    CollectionIndexes,
    IndexKeys,
    load_index_specs,
)
from wellness_repo.database.sharding import (
    MongosAdmin,
    NotAMongosError,
    check_shard_keys,
    plan_sharding,
    run_shard_command,
    shard_collection_command,
    supporting_index,
)
from wellness_repo.errors import ValidationError

MONGOS_HELLO = {"isWritablePrimary": True, "msg": "isdbgrid", "ok": 1.0}
REPLICA_SET_HELLO = {"isWritablePrimary": True, "setName": "rs0", "ok": 1.0}
STANDALONE_HELLO = {"isWritablePrimary": True, "ok": 1.0}

USER_TIMELINE = {
    "name": "user_timeline",
    "keys": {"user_id": 1, "created_at": -1, "_id": 1},
    "purpose": "a patient's mood entries, newest first",
}


class RecordingAdmin:
    """A mongos stand-in: answers ``hello``, records every other command, and
    remembers the collections it was told to shard."""

    def __init__(
        self,
        hello: Mapping[str, Any] = MONGOS_HELLO,
        sharded: Mapping[str, IndexKeys] | None = None,
    ) -> None:
        self.hello = dict(hello)
        self.sharded: dict[str, IndexKeys] = dict(sharded or {})
        self.sent: list[dict[str, Any]] = []
        self.hello_calls = 0

    async def command(self, command: Mapping[str, Any]) -> Mapping[str, Any]:
        document = dict(command)
        if next(iter(document)) == "hello":
            self.hello_calls += 1
            return self.hello
        self.sent.append(document)
        if "shardCollection" in document:
            collection = document["shardCollection"].split(".", 1)[1]
            self.sharded[collection] = tuple(document["key"].items())
        return {"ok": 1.0}

    async def sharded_keys(self, database: str) -> dict[str, IndexKeys]:
        return dict(self.sharded)


def write_spec(directory: Path, collection: str, **document: Any) -> None:
    document.setdefault("indexes", [])
    path = directory / f"{collection}.json"
    path.write_text(json.dumps({"collection": collection, **document}))


@pytest.fixture
def shipped() -> list[CollectionIndexes]:
    return load_index_specs()


def sharded_names(specs: list[CollectionIndexes]) -> set[str]:
    return {spec.collection for spec in specs if spec.shard_key is not None}


# --- the commands sent to a mongos ----------------------------------------------


async def test_first_run_enables_sharding_then_shards_every_keyed_collection(
    shipped: list[CollectionIndexes],
) -> None:
    admin = RecordingAdmin()

    code, _ = await run_shard_command(admin, "wellness", shipped)

    assert code == 0
    assert admin.sent[0] == {"enableSharding": "wellness"}
    sharded = {c["shardCollection"]: c for c in admin.sent[1:]}
    assert set(sharded) == {f"wellness.{name}" for name in sharded_names(shipped)}
    assert sharded["wellness.mood_entries"] == {
        "shardCollection": "wellness.mood_entries",
        "key": {"user_id": 1},
        "unique": False,
    }
    assert sharded["wellness.audit_logs"]["key"] == {"sequence": 1}
    assert all(next(iter(c)) == "shardCollection" for c in admin.sent[1:])


async def test_a_replica_set_is_refused_before_any_command_is_sent(
    shipped: list[CollectionIndexes],
) -> None:
    admin = RecordingAdmin(hello=REPLICA_SET_HELLO)

    with pytest.raises(NotAMongosError) as refused:
        await run_shard_command(admin, "wellness", shipped)

    assert "needs a mongos" in str(refused.value)
    assert "replica set 'rs0'" in str(refused.value)
    assert admin.sent == []


async def test_a_standalone_server_is_refused_and_named(
    shipped: list[CollectionIndexes],
) -> None:
    admin = RecordingAdmin(hello=STANDALONE_HELLO)

    with pytest.raises(NotAMongosError) as refused:
        await plan_sharding(admin, "wellness", shipped)

    assert refused.value.server == "standalone mongod"
    assert admin.sent == []


async def test_second_run_sends_nothing_and_reports_all_already_sharded(
    shipped: list[CollectionIndexes],
) -> None:
    admin = RecordingAdmin()
    await run_shard_command(admin, "wellness", shipped)
    first_run = len(admin.sent)

    code, text = await run_shard_command(admin, "wellness", shipped)

    assert code == 0
    assert len(admin.sent) == first_run
    assert "ran 0 command(s)" in text
    plan = await plan_sharding(admin, "wellness", shipped)
    assert set(plan.already_sharded) == sharded_names(shipped)


async def test_collection_sharded_on_another_key_is_drift_and_left_alone(
    shipped: list[CollectionIndexes],
) -> None:
    admin = RecordingAdmin(sharded={"mood_entries": (("user_id", "hashed"),)})

    code, text = await run_shard_command(admin, "wellness", shipped)

    assert code == 1
    assert (
        'DRIFT mood_entries: sharded on {"user_id": "hashed"}, spec declares '
        '{"user_id": 1}' in text
    )
    targets = [c.get("shardCollection") for c in admin.sent]
    assert "wellness.mood_entries" not in targets
    assert "wellness.journal_entries" in targets
    assert admin.sharded["mood_entries"] == (("user_id", "hashed"),)


async def test_collection_sharded_though_declared_unsharded_is_drift(
    shipped: list[CollectionIndexes],
) -> None:
    admin = RecordingAdmin(sharded={"providers": (("_id", "hashed"),)})

    code, text = await run_shard_command(admin, "wellness", shipped)

    assert code == 1
    assert (
        'DRIFT providers: sharded on {"_id": "hashed"}, spec declares no shard key'
        in text
    )
    assert "wellness.providers" not in [c.get("shardCollection") for c in admin.sent]


async def test_dry_run_prints_the_mongosh_commands_and_sends_none(
    shipped: list[CollectionIndexes],
) -> None:
    admin = RecordingAdmin()

    code, text = await run_shard_command(admin, "wellness", shipped, dry_run=True)

    assert code == 0
    assert admin.sent == []
    assert admin.hello_calls == 1
    lines = text.splitlines()
    assert lines[0].startswith("sharding wellness: would run ")
    assert lines[1] == '  db.adminCommand({"enableSharding": "wellness"})'
    assert (
        '  db.adminCommand({"shardCollection": "wellness.mood_entries", '
        '"key": {"user_id": 1}, "unique": false})'
    ) in lines
    assert any(line.startswith("unsharded by design: ") for line in lines)


async def test_check_exits_1_while_a_collection_is_unsharded_and_0_after(
    shipped: list[CollectionIndexes],
) -> None:
    admin = RecordingAdmin()

    before, _ = await run_shard_command(admin, "wellness", shipped, check=True)
    await run_shard_command(admin, "wellness", shipped)
    after, _ = await run_shard_command(admin, "wellness", shipped, check=True)

    assert (before, after) == (1, 0)


async def test_collections_declared_unsharded_get_no_command(tmp_path: Path) -> None:
    write_spec(
        tmp_path,
        "providers",
        shard_key=None,
        shard_key_reason="a small directory",
    )
    write_spec(tmp_path, "legacy_notes")
    admin = RecordingAdmin()

    plan = await plan_sharding(admin, "wellness", load_index_specs(tmp_path))

    assert plan.commands == ()
    assert plan.unsharded == ("providers",)
    assert plan.undeclared == ("legacy_notes",)


def test_hashed_key_gets_num_initial_chunks_only_when_asked(tmp_path: Path) -> None:
    hashed_index = {"name": "by_user", "keys": {"user_id": "hashed"}, "purpose": "x"}
    write_spec(
        tmp_path,
        "mood_entries",
        shard_key={"user_id": "hashed"},
        indexes=[hashed_index],
    )
    (spec,) = load_index_specs(tmp_path)

    presplit = shard_collection_command("wellness", spec, initial_chunks=8)
    plain = shard_collection_command("wellness", spec)

    assert presplit == {
        "shardCollection": "wellness.mood_entries",
        "key": {"user_id": "hashed"},
        "unique": False,
        "numInitialChunks": 8,
    }
    assert "numInitialChunks" not in plain


def test_ranged_key_never_gets_num_initial_chunks(
    shipped: list[CollectionIndexes],
) -> None:
    mood = next(spec for spec in shipped if spec.collection == "mood_entries")

    command = shard_collection_command("wellness", mood, initial_chunks=8)

    assert "numInitialChunks" not in command


def test_zero_initial_chunks_is_refused(tmp_path: Path) -> None:
    hashed_index = {"name": "by_user", "keys": {"user_id": "hashed"}, "purpose": "x"}
    write_spec(
        tmp_path,
        "mood_entries",
        shard_key={"user_id": "hashed"},
        indexes=[hashed_index],
    )
    (spec,) = load_index_specs(tmp_path)

    with pytest.raises(ValidationError) as raised:
        shard_collection_command("wellness", spec, initial_chunks=0)

    assert raised.value.rule == "initial_chunks"


# --- shard keys against the declared indexes -------------------------------------


def test_every_shipped_collection_declares_a_shard_key_decision_with_a_reason(
    shipped: list[CollectionIndexes],
) -> None:
    undecided = [spec.collection for spec in shipped if not spec.shard_key_reason]

    assert undecided == []


def test_every_shipped_shard_key_is_backed_by_a_declared_index(
    shipped: list[CollectionIndexes],
) -> None:
    check_shard_keys(shipped)

    unbacked = [
        spec.collection
        for spec in shipped
        if spec.shard_key is not None and supporting_index(spec) is None
    ]
    assert unbacked == []


def test_patient_keyed_collections_have_a_patient_timeline_index_first(
    shipped: list[CollectionIndexes],
) -> None:
    for spec in shipped:
        if spec.shard_key is None or spec.shard_key[0][0] not in (
            "user_id",
            "patient_id",
        ):
            continue
        patient_field = spec.shard_key[0][0]
        leading = [index.keys[0][0] for index in spec.indexes]
        assert patient_field in leading, spec.collection


def test_shard_key_without_a_backing_index_is_refused(tmp_path: Path) -> None:
    write_spec(
        tmp_path,
        "mood_entries",
        shard_key={"patient_ref": 1},
        indexes=[USER_TIMELINE],
    )

    with pytest.raises(ValidationError) as raised:
        check_shard_keys(load_index_specs(tmp_path))

    assert raised.value.rule == "shard_key_index"
    assert raised.value.field is not None
    assert raised.value.field.endswith("mood_entries.json:shard_key")


def test_hashed_key_backed_only_by_an_ascending_index_is_refused(
    tmp_path: Path,
) -> None:
    write_spec(
        tmp_path,
        "mood_entries",
        shard_key={"user_id": "hashed"},
        indexes=[USER_TIMELINE],
    )

    with pytest.raises(ValidationError) as raised:
        check_shard_keys(load_index_specs(tmp_path))

    assert raised.value.rule == "shard_key_index"


def test_partial_index_cannot_back_a_shard_key(tmp_path: Path) -> None:
    partial = {
        **USER_TIMELINE,
        "partial_filter": {"deleted_at": None},
    }
    write_spec(tmp_path, "mood_entries", shard_key={"user_id": 1}, indexes=[partial])

    with pytest.raises(ValidationError) as raised:
        check_shard_keys(load_index_specs(tmp_path))

    assert raised.value.rule == "shard_key_index"


def test_unique_index_not_starting_with_the_shard_key_is_refused(
    tmp_path: Path,
) -> None:
    licence = {
        "name": "one_per_licence",
        "keys": {"license_number": 1},
        "purpose": "one provider per licence",
        "unique": True,
    }
    write_spec(
        tmp_path,
        "mood_entries",
        shard_key={"user_id": 1},
        indexes=[USER_TIMELINE, licence],
    )

    with pytest.raises(ValidationError) as raised:
        check_shard_keys(load_index_specs(tmp_path))

    assert raised.value.rule == "unique_index_prefix"
    assert "one_per_licence" in str(raised.value)


async def test_a_bad_shard_key_is_refused_before_the_server_is_asked(
    tmp_path: Path,
) -> None:
    write_spec(tmp_path, "mood_entries", shard_key={"patient_ref": 1})
    admin = RecordingAdmin()

    with pytest.raises(ValidationError):
        await plan_sharding(admin, "wellness", load_index_specs(tmp_path))

    assert admin.hello_calls == 0


# --- the spec loader's shard_key_reason --------------------------------------------


def test_shard_key_reason_is_loaded(tmp_path: Path) -> None:
    write_spec(
        tmp_path,
        "mood_entries",
        shard_key={"user_id": 1},
        shard_key_reason="every read filters on the patient",
        indexes=[USER_TIMELINE],
    )

    (spec,) = load_index_specs(tmp_path)

    assert spec.shard_key == (("user_id", 1),)
    assert spec.shard_key_reason == "every read filters on the patient"


def test_null_shard_key_without_a_reason_is_refused(tmp_path: Path) -> None:
    write_spec(tmp_path, "providers", shard_key=None)

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "unsharded_reason"


@pytest.mark.parametrize("reason", ["", "   ", 7, ["patient"]])
def test_blank_or_non_text_shard_key_reason_is_refused(
    tmp_path: Path, reason: Any
) -> None:
    write_spec(tmp_path, "providers", shard_key=None, shard_key_reason=reason)

    with pytest.raises(ValidationError) as raised:
        load_index_specs(tmp_path)

    assert raised.value.rule == "shard_key_reason"


# --- MongosAdmin over the driver ---------------------------------------------------


class _Cursor:
    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self._documents = documents

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        for document in self._documents:
            yield document


class _ConfigCollections:
    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self.documents = documents
        self.filters: list[dict[str, Any]] = []

    def find(self, query: dict[str, Any], projection: dict[str, Any]) -> _Cursor:
        self.filters.append(query)
        bounds = query["_id"]
        return _Cursor(
            [d for d in self.documents if bounds["$gte"] <= d["_id"] < bounds["$lt"]]
        )


class _Client:
    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self.config = type("Config", (), {})()
        self.config.collections = _ConfigCollections(documents)


async def test_mongos_admin_reads_live_sharded_collections_of_one_database() -> None:
    client = _Client(
        [
            {"_id": "wellness.mood_entries", "key": {"user_id": 1}},
            {"_id": "wellness.old_notes", "key": {"x": 1}, "dropped": True},
            {"_id": "wellness.providers", "key": {"_id": 1}, "unsplittable": True},
            {"_id": "wellness_staging.mood_entries", "key": {"user_id": 1}},
            {"_id": "wellnessx.mood_entries", "key": {"user_id": 1}},
        ]
    )

    keys = await MongosAdmin(client).sharded_keys("wellness")

    assert keys == {"mood_entries": (("user_id", 1),)}


# --- cluster consistency settings ----------------------------------------------------


def test_majority_read_concern_with_w1_writes_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        Settings(read_concern="majority", write_concern="1")

    assert "read_concern 'majority' with write_concern '1'" in str(raised.value)


def test_max_staleness_with_primary_reads_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        Settings(max_staleness_seconds=120)

    assert "max_staleness_seconds applies only" in str(raised.value)


def test_max_staleness_below_the_server_minimum_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        Settings(read_preference="secondaryPreferred", max_staleness_seconds=30)


def test_unknown_read_preference_and_read_concern_are_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        Settings(read_preference="closest")
    with pytest.raises(pydantic.ValidationError):
        Settings(read_concern="linearizable")


def test_cluster_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WELLNESS_READ_PREFERENCE", "secondaryPreferred")
    monkeypatch.setenv("WELLNESS_READ_CONCERN", "majority")
    monkeypatch.setenv("WELLNESS_WRITE_CONCERN_TIMEOUT_MS", "5000")
    monkeypatch.setenv("WELLNESS_MAX_STALENESS_SECONDS", "120")

    settings = Settings(_env_file=None)

    assert settings.read_preference == "secondaryPreferred"
    assert settings.read_concern == "majority"
    assert settings.write_concern_timeout_ms == 5000
    assert settings.max_staleness_seconds == 120


def test_safety_critical_collections_read_from_the_primary_whatever_configured() -> (
    None
):
    settings = Settings(read_preference="secondaryPreferred")

    assert settings.read_preference_for("crisis_detections") == "primary"
    assert settings.read_preference_for("audit_logs") == "primary"
    assert settings.read_preference_for("user_sessions") == "primary"
    assert settings.read_preference_for("medications") == "primary"
    assert settings.read_preference_for("mood_entries") == "secondaryPreferred"
    assert {"crisis_detections", "safety_plans", "audit_logs"} <= (
        PRIMARY_READ_COLLECTIONS
    )


# --- the routing model behind README's targeted / scatter-gather table ---------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"user_id": "p1", "deleted_at": None}, Routing.TARGETED),
        ({"user_id": {"$eq": "p1"}}, Routing.TARGETED),
        ({"$and": [{"user_id": "p1"}, {"user_id": {"$in": ["p1"]}}]}, Routing.TARGETED),
        ({"user_id": {"$in": ["p1", "p2"]}}, Routing.MULTI),
        ({"user_id": {"$gte": "p1"}}, Routing.MULTI),
        ({"_id": "m1", "deleted_at": None}, Routing.SCATTER),
    ],
)
def test_queries_are_routed_as_a_mongos_would(
    query: dict[str, Any], expected: Routing
) -> None:
    assert routing(query, (("user_id", 1),)) is expected


def test_a_range_on_a_hashed_key_is_scatter_gather() -> None:
    assert routing({"user_id": {"$gte": "p1"}}, (("user_id", "hashed"),)) is (
        Routing.SCATTER
    )
