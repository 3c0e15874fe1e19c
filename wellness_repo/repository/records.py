"""Converting between models and stored documents, with schema versions.

Writes are dumped with pydantic (never Beanie's encoder, which costs about nine
times as much) and validated once more, so what is stored always reads back.
Reads validate the stored document; a document written by an older schema is
upgraded first by the migrations its repository defines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from wellness_repo.errors import RepositoryError, ValidationError
from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.read_validation import read_validator
from wellness_repo.models.types import ID_PATTERN

__all__ = [
    "Migration",
    "dump_for_storage",
    "load_document",
    "load_partial",
    "revalidated",
]

T = TypeVar("T", bound=WellnessDocument)
Migration = Callable[[dict[str, Any]], dict[str, Any]]
VERSION_KEY = "_version"
REVISION_KEY = "_rev"


_ID = re.compile(ID_PATTERN)


def printable_id(value: Any) -> str | None:
    """``value`` if it is a well-formed id, else ``None``: errors and logs name
    records by id, and an ill-formed "id" may be anything, even a patient's words.
    """
    if isinstance(value, str) and _ID.match(value):
        return value
    return None


def validation_error(
    exc: PydanticValidationError, entity: str, entity_id: str | None = None
) -> ValidationError:
    """Translate pydantic's error into ours: every field and rule, no values.

    A rule checked by a model validator (one field against another) has no
    location of its own; it names the field it refuses as ``field`` in its
    error context.
    """
    found = [
        (
            _error_field(error),
            str(error["type"]),
            str(error["msg"]),
        )
        for error in exc.errors(include_url=False, include_input=False)
    ]
    field, rule, message = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return ValidationError(
        f"{message}{more}",
        field=field,
        rule=rule,
        errors=found,
        entity=entity,
        entity_id=entity_id,
        cause=exc,
    )


def _error_field(error: ErrorDetails) -> str:
    location = [str(step) for step in error["loc"]]
    named = error.get("ctx", {}).get("field")
    if isinstance(named, str):
        location.append(named)
    return ".".join(location)


def dump_for_storage(entity: T, *, revision: int) -> tuple[dict[str, Any], T]:
    """The stored form of ``entity``, and the record it validates into.

    The dump is validated once more and the validated record is what is stored,
    so values validators derive (a mood change from two moods) are never stale,
    even for an entity built with ``model_copy`` or ``model_construct``.
    Raises ``ValidationError`` when the entity was changed into something invalid
    after it was built (a list mutated in place, say): nothing is written then.
    """
    model = type(entity)
    try:
        # Documents revalidate instances, so this checks the entity as it now
        # stands, without first dumping it (which would also warn with values).
        record: T = model.__pydantic_validator__.validate_python(entity)
    except PydanticValidationError as exc:
        raise validation_error(
            exc, model.entity_name(), printable_id(getattr(entity, "id", None))
        ) from None
    record.__dict__["revision"] = revision
    stored: dict[str, Any] = record.model_dump(by_alias=True)
    stored[VERSION_KEY] = model.SCHEMA_VERSION
    return stored, record


def revalidated(entity: T) -> T:
    """``entity`` validated afresh, so derived fields (a normalised rating, an
    urgency) are right even if it was built with ``model_copy`` or
    ``model_construct``, which skip validation, or changed in place.

    Raises:
        ValidationError: by field and rule, with no values.
    """
    model = type(entity)
    try:
        # Serializer warnings would quote the offending values; validation below
        # reports the same problems by field and rule only.
        document = entity.model_dump(by_alias=True, warnings=False)
        fresh: T = model.model_validate(document)
    except PydanticValidationError as exc:
        raise validation_error(
            exc, model.entity_name(), printable_id(getattr(entity, "id", None))
        ) from None
    return fresh


def upgrade_document(
    model: type[WellnessDocument],
    document: dict[str, Any],
    migrations: Mapping[int, Migration],
) -> dict[str, Any]:
    """Bring a stored document up to ``model.SCHEMA_VERSION``.

    ``migrations[n]`` upgrades a version-``n`` document to ``n + 1``; documents
    without a version are version 1.
    """
    version = int(document.get(VERSION_KEY, 1))
    current = model.SCHEMA_VERSION
    if version > current:
        raise RepositoryError(
            f"stored record has schema version {version}, newer than this code's "
            f"{current}; upgrade the package",
            entity=model.entity_name(),
            entity_id=str(document.get("_id")),
        )
    while version < current:
        step = migrations.get(version)
        if step is None:
            raise RepositoryError(
                f"no migration from schema version {version} to {version + 1}",
                entity=model.entity_name(),
                entity_id=str(document.get("_id")),
            )
        document = dict(step(dict(document)))
        version += 1
        document[VERSION_KEY] = version
    return document


def load_documents(
    model: type[T],
    documents: Iterable[dict[str, Any]],
    migrations: Mapping[int, Migration],
) -> list[T]:
    """Build records from stored documents (upgrading old schemas).

    This is the read hot path: it calls pydantic-core's validators directly,
    which saves a wrapper call per record on a page of a thousand. A document
    the current schema wrote goes through the read validator (every field
    checked, stored derivations not run again); an upgraded one through the
    model's own, in full.
    """
    read = read_validator(model).validate_python
    validate = model.__pydantic_validator__.validate_python
    current = model.SCHEMA_VERSION
    records: list[T] = []
    for document in documents:
        check = read
        if document.get(VERSION_KEY, 1) != current:
            document = upgrade_document(model, document, migrations)
            check = validate
        document.pop(VERSION_KEY, None)
        try:
            records.append(check(document))
        except PydanticValidationError as exc:
            raise _stored_mismatch(model, document, exc) from None
    return records


def load_document(
    model: type[T], document: dict[str, Any], migrations: Mapping[int, Migration]
) -> T:
    """Build one record from its stored document (upgrading an old schema)."""
    return load_documents(model, [document], migrations)[0]


def _stored_mismatch(
    model: type[WellnessDocument],
    document: Mapping[str, Any],
    exc: PydanticValidationError,
) -> RepositoryError:
    fields = sorted({".".join(map(str, error["loc"])) for error in exc.errors()})
    return RepositoryError(
        "a stored record does not match its model: " + ", ".join(fields),
        entity=model.entity_name(),
        entity_id=str(document.get("_id")),
        cause=exc,
    )


def load_partial(
    model: type[T], document: dict[str, Any], migrations: Mapping[int, Migration]
) -> T:
    """Build a record holding only the fields present in a projected document.

    Fields not present are absent from the record (reading one raises
    ``AttributeError``), never silently ``None``.
    """
    if document.get(VERSION_KEY, 1) != model.SCHEMA_VERSION:
        document = upgrade_document(model, document, migrations)
    document.pop(VERSION_KEY, None)
    values: dict[str, Any] = {}
    names = _stored_names(model)
    for stored, value in document.items():
        name = names.get(stored)
        if name is None:
            continue
        try:
            values[name] = _field_adapter(model, name).validate_python(value)
        except PydanticValidationError as exc:
            raise RepositoryError(
                f"a stored record's field {name} does not match its model",
                entity=model.entity_name(),
                entity_id=str(document.get("_id")),
                cause=exc,
            ) from None
    record: T = model.model_construct(_fields_set=set(values), **values)
    for name in model.model_fields:
        if name not in values:
            record.__dict__.pop(name, None)
    return record


_STORED_NAMES: dict[type[WellnessDocument], dict[str, str]] = {}
_FIELD_ADAPTERS: dict[tuple[type[WellnessDocument], str], TypeAdapter[Any]] = {}


def _stored_names(model: type[WellnessDocument]) -> dict[str, str]:
    names = _STORED_NAMES.get(model)
    if names is None:
        names = {
            (info.alias or name): name for name, info in model.model_fields.items()
        }
        _STORED_NAMES[model] = names
    return names


def _field_adapter(model: type[WellnessDocument], name: str) -> TypeAdapter[Any]:
    adapter = _FIELD_ADAPTERS.get((model, name))
    if adapter is None:
        info = model.model_fields[name]
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[annotation, *info.metadata]
        adapter = _FIELD_ADAPTERS[(model, name)] = TypeAdapter(annotation)
    return adapter


def changed_fields(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], ignore: Iterable[str]
) -> tuple[str, ...]:
    """The names of top-level fields whose stored value differs."""
    if before is None:
        return ()
    skipped = set(ignore)
    keys = (set(before) | set(after)) - skipped
    return tuple(sorted(key for key in keys if before.get(key) != after.get(key)))
