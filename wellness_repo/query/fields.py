"""Resolving a lookup path (``contacts__name``) against a model: which stored field
it names, its type, and whether it runs through a list."""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    PlainValidator,
    TypeAdapter,
    WrapValidator,
)
from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import ValidationError
from wellness_repo.models.types import Encrypted

__all__ = ["FieldPath", "resolve_path"]


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A resolved lookup path.

    Args:
        name: the path as the caller wrote it, dotted (``contacts.name``).
        mongo_path: the stored path (``_id`` for ``id``).
        scalar_type: the type of one value at the end of the path, lists and
            ``Optional`` unwrapped.
        through_list: whether any step of the path, or its end, is a list; such
            paths match when any element matches, as MongoDB does.
        is_list: whether the field at the end of the path is itself a list.
        element_model: the sub-document model of a list of sub-documents.
        encryption: the field's ``Encrypted`` marker, if it is sensitive.
        list_path: the stored path up to and including the innermost list step,
            and the rest after it (``("goals", "code")``), or ``None``.
    """

    name: str
    mongo_path: str
    scalar_type: Any
    through_list: bool
    is_list: bool
    element_model: type[BaseModel] | None
    encryption: Encrypted | None
    adapter: TypeAdapter[Any]
    list_path: tuple[str, str] | None = None

    @property
    def is_text(self) -> bool:
        """Whether the values are strings (text operators apply)."""
        return _is_str_type(self.scalar_type)

    @property
    def is_orderable(self) -> bool:
        """Whether range comparisons make sense on the values."""
        return _is_orderable(self.scalar_type)

    @property
    def is_sortable(self) -> bool:
        """Whether the values are plain ones a sort and a page cursor can
        carry: text, numbers, booleans, dates and times, and their enums."""
        kind = self.scalar_type
        return isinstance(kind, type) and issubclass(
            kind, int | float | str | date | datetime
        )

    def coerce(self, value: Any, *, key: str) -> Any:
        """Convert one lookup value to the stored form of this field's values.

        Raises ``ValidationError`` naming ``key`` when the value does not fit.
        """
        if isinstance(value, dict):
            raise ValidationError(
                "expected a single value, got a mapping (operators are not values)",
                field=key,
                rule="scalar_expected",
            )
        if (
            isinstance(value, str)
            and isinstance(self.scalar_type, type)
            and issubclass(self.scalar_type, Enum)
            and value in self.scalar_type.__members__
        ):
            # DESIGN.md: enum names are accepted beside their stored values.
            value = self.scalar_type[value]
        try:
            coerced = self.adapter.validate_python(value)
        except PydanticValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            raise ValidationError(
                f"value does not fit {_type_name(self.scalar_type)}: {first['msg']}",
                field=key,
                rule=str(first["type"]),
                cause=exc,
            ) from None
        _check_storable_number(coerced, key)
        return to_storage(coerced)


def _check_storable_number(value: Any, key: str) -> None:
    """Refuse numbers a query cannot compare the way the caller meant: NaN and
    infinities (every comparison with NaN is false, ``lt inf`` matches all) and
    integers past BSON's 64 bits (the driver cannot encode them)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(
            "value must be a finite number", field=key, rule="finite_number"
        )
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValidationError(
            "value must fit a 64-bit integer", field=key, rule="int64_range"
        )


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def to_storage(value: Any) -> Any:
    """The form a Python value takes in a stored document and in a query."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True)
    return value


def resolve_path(model: type[BaseModel], parts: tuple[str, ...]) -> FieldPath:
    """Resolve ``parts`` (the ``__``-separated steps) against ``model``.

    Raises:
        ValidationError: when a step names no field of the model.
    """
    return _resolve(model, parts)


@lru_cache(maxsize=4096)
def _resolve(model: type[BaseModel], parts: tuple[str, ...]) -> FieldPath:
    current: type[BaseModel] | None = model
    mongo_parts: list[str] = []
    through_list = False
    annotation: Any = None
    is_list = False
    encryption: Encrypted | None = None
    validators: tuple[Any, ...] = ()
    list_steps = 0
    dotted = ".".join(parts)
    for index, part in enumerate(parts):
        if current is None:
            raise ValidationError(
                f"cannot look inside a value of type {_type_name(annotation)}",
                field=dotted,
                rule="unknown_field",
            )
        field_name, stored_name = _field_names(current, part, top=index == 0)
        if field_name is None:
            raise ValidationError(
                f"{current.__name__} has no field {part!r}",
                field=dotted,
                rule="unknown_field",
            )
        info = current.model_fields[field_name]
        encryption = _encryption_marker(info.metadata) or encryption
        annotation, is_list, nested_marker, validators = _unwrap(info.annotation)
        if not is_list:
            # pydantic moves a field's own Annotated validators into its metadata.
            validators += tuple(m for m in info.metadata if isinstance(m, _VALIDATORS))
        encryption = nested_marker or encryption
        through_list = through_list or is_list
        mongo_parts.append(stored_name)
        if is_list:
            list_steps = len(mongo_parts)
        current = annotation if _is_model(annotation) else None
    return FieldPath(
        name=dotted,
        mongo_path=".".join(mongo_parts),
        scalar_type=annotation,
        through_list=through_list,
        is_list=is_list,
        element_model=current if is_list else None,
        encryption=encryption,
        adapter=_adapter(annotation, validators),
        list_path=(
            (".".join(mongo_parts[:list_steps]), ".".join(mongo_parts[list_steps:]))
            if list_steps
            else None
        ),
    )


def _field_names(
    model: type[BaseModel], part: str, *, top: bool
) -> tuple[str | None, str]:
    fields = model.model_fields
    if part in fields:
        alias = fields[part].alias
        return part, alias or part
    id_name = getattr(model, "ID_NAME", None)
    if top and part in ("_id", id_name) and "id" in fields:
        return "id", "_id"
    return None, part


def _unwrap(annotation: Any) -> tuple[Any, bool, Encrypted | None, tuple[Any, ...]]:
    """Strip Optional, Annotated and one list level; return the element type.

    Function validators met on the way (the UTC check of ``UtcDatetime``) are
    returned too: lookup values must pass them. Constraints such as ``le=10`` are
    not: ``mood_rating__lt=11`` is a fair question to ask.
    """
    marker: Encrypted | None = None
    validators: list[Any] = []
    is_list = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            base, *extras = get_args(annotation)
            marker = _encryption_marker(extras) or marker
            validators.extend(item for item in extras if isinstance(item, _VALIDATORS))
            annotation = base
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation, is_list, marker, tuple(validators)
            annotation = members[0]
        elif origin in (list, tuple, set, frozenset) and not is_list:
            args = get_args(annotation)
            annotation = args[0] if args else Any
            is_list = True
            validators.clear()
        else:
            return annotation, is_list, marker, tuple(validators)


_VALIDATORS = (AfterValidator, BeforeValidator, PlainValidator, WrapValidator)


def _encryption_marker(metadata: Any) -> Encrypted | None:
    for item in metadata or ():
        if isinstance(item, Encrypted):
            return item
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_str_type(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, str)
    return False


def _is_orderable(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    if issubclass(annotation, Enum):
        return False
    return issubclass(annotation, int | float | str | date | datetime)


@lru_cache(maxsize=1024)
def _adapter(annotation: Any, validators: tuple[Any, ...]) -> TypeAdapter[Any]:
    if validators:
        return TypeAdapter(Annotated[annotation, *validators])
    return TypeAdapter(annotation)


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation)
