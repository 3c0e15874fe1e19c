"""Where a record's sensitive values live: the paths a model declares ``Encrypted``,
followed through embedded sub-documents and lists, and the places in a stored
document or a MongoDB update that hold a value to encrypt or decrypt.

Pure functions over models and dicts: no keys, no database. The cipher uses them
to find what to encrypt; the repositories use :func:`needs_patient_key` to know
when an update must name the patient whose key encrypts it.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from wellness_repo.errors import ValidationError
from wellness_repo.models.types import Encrypted, EncryptionAlgorithm

__all__ = [
    "LIST_STEP",
    "EncryptedLayout",
    "EncryptedPath",
    "Slot",
    "encrypted_layout",
    "needs_patient_key",
    "plan_document",
    "plan_update",
]

LIST_STEP = "[]"
"""The step a path takes into each element of a list."""

# Update operators whose values are stored as given, and those that append them.
_STORING = frozenset({"$set", "$setOnInsert"})
_APPENDING = frozenset({"$push", "$addToSet"})
# Operators that only remove: they may name an encrypted path.
_REMOVING = frozenset({"$unset", "$pop", "$pull", "$pullAll"})


@dataclass(frozen=True, slots=True)
class EncryptedPath:
    """One place in a stored record that holds an encrypted value.

    Args:
        steps: the stored field names from the top of the record, with
            :data:`LIST_STEP` wherever the path enters each element of a list.
        algorithm: deterministic (equality lookups work) or random.
    """

    steps: tuple[str, ...]
    algorithm: EncryptionAlgorithm

    @property
    def dotted(self) -> str:
        """The MongoDB path a query names, e.g. ``treatment_goals.description``."""
        return ".".join(step for step in self.steps if step != LIST_STEP)


Node = dict[str, Any]
"""A level of the path tree: each key is a step, each value a deeper level or
the :class:`EncryptedPath` that ends there."""


@dataclass(frozen=True, slots=True)
class EncryptedLayout:
    """Every encrypted path of one model, as a list and as a tree of steps."""

    paths: tuple[EncryptedPath, ...]
    tree: Node = field(default_factory=dict)

    def by_dotted(self, dotted: str) -> EncryptedPath | None:
        """The encrypted path a query names, or ``None``."""
        for path in self.paths:
            if path.dotted == dotted:
                return path
        return None


@dataclass(frozen=True, slots=True)
class Slot:
    """A value to encrypt or decrypt: ``holder[key]``, at ``path``.

    Args:
        owner: the index of the document (or ``0`` for an update) it belongs to.
    """

    holder: Any
    key: Any
    path: EncryptedPath
    owner: int = 0

    @property
    def value(self) -> Any:
        """The value now in the slot."""
        return self.holder[self.key]


def encrypted_layout(model: type[Any]) -> EncryptedLayout:
    """The encrypted paths of ``model``, worked out once per model.

    Raises:
        TypeError: the model marks a value ``Encrypted`` inside a mapping, where
            no fixed path leads to it.
    """
    layout = _LAYOUTS.get(model)
    if layout is None:
        layout = _LAYOUTS[model] = _layout(model)
    return layout


_LAYOUTS: dict[type[Any], EncryptedLayout] = {}


def _layout(model: type[BaseModel]) -> EncryptedLayout:
    paths = tuple(_model_paths(model, (), frozenset()))
    tree: Node = {}
    for path in paths:
        level = tree
        for step in path.steps[:-1]:
            level = level.setdefault(step, {})
            if not isinstance(level, dict):
                raise TypeError(f"{model.__name__}: encrypted paths overlap")
        if path.steps[-1] in level:
            raise TypeError(f"{model.__name__}: encrypted paths overlap")
        level[path.steps[-1]] = path
    return EncryptedLayout(paths, tree)


def plan_document(
    layout: EncryptedLayout, document: Mapping[str, Any], owner: int = 0
) -> tuple[dict[str, Any], list[Slot]]:
    """A copy of ``document`` and the slots in it that hold sensitive values.

    The copy shares everything with the original except the dicts and lists on
    the way to a sensitive value, so writing into the slots leaves the original
    untouched. ``None`` values are not slots: absence stays visible to ``isnull``.
    """
    holder: list[Any] = [document]
    slots: list[Slot] = []
    _collect(layout.tree, holder, 0, slots, owner)
    copied: dict[str, Any] = holder[0]
    return copied, slots


def plan_update(
    model: type[BaseModel], update: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Slot]]:
    """A copy of a MongoDB update document and the slots holding sensitive values.

    Understands ``$set``/``$setOnInsert`` (of a field, a sub-document, a list or
    one element: ``goals.$.notes``, ``goals.0``, ``goals.$[]``), and
    ``$push``/``$addToSet`` with or without ``$each``.

    Raises:
        ValidationError: the update would write part of a value stored encrypted
            as a whole (``encrypted_whole_value``), or apply arithmetic or a
            rename to an encrypted path (``encrypted_field``).
    """
    layout = encrypted_layout(model)
    copied = dict(update)
    slots: list[Slot] = []
    if not layout.paths:
        return copied, slots
    for operator, fields in update.items():
        if not isinstance(fields, Mapping):
            continue
        fields_copy = dict(fields)
        copied[operator] = fields_copy
        for path in fields:
            steps = _update_steps(path)
            if operator in _STORING:
                node = _node_at(layout.tree, steps, path)
                _collect(node, fields_copy, path, slots, 0)
            elif operator in _APPENDING:
                _plan_append(layout.tree, steps, fields_copy, path, slots)
            elif operator not in _REMOVING and _touches(layout.tree, steps):
                raise ValidationError(
                    f"{path} is stored encrypted; {operator} cannot change it",
                    field=path,
                    rule="encrypted_field",
                )
    return copied, slots


def needs_patient_key(model: type[BaseModel], update: Mapping[str, Any]) -> bool:
    """Whether ``update`` writes a random-encrypted value of a per-patient model,
    which only the patient's own data key may encrypt."""
    if getattr(model, "PATIENT_FIELD", None) is None:
        return False
    _, slots = plan_update(model, update)
    return any(
        slot.path.algorithm is EncryptionAlgorithm.RANDOM
        and not _is_ciphertext(slot.value)
        for slot in slots
    )


def _plan_append(
    tree: Node,
    steps: tuple[str, ...],
    fields: dict[str, Any],
    path: str,
    slots: list[Slot],
) -> None:
    whole = _node_at(tree, steps, path)
    if isinstance(whole, EncryptedPath):
        raise ValidationError(
            f"{path} is stored encrypted as a whole; replace it with $set",
            field=path,
            rule="encrypted_whole_value",
        )
    value = fields[path]
    if isinstance(value, Mapping) and "$each" in value:
        modifiers = dict(value)
        fields[path] = modifiers
        _collect(whole, modifiers, "$each", slots, 0)
        return
    element = _node_at(tree, (*steps, LIST_STEP), path)
    _collect(element, fields, path, slots, 0)


def _collect(node: Any, holder: Any, key: Any, slots: list[Slot], owner: int) -> None:
    """Find the slots under ``holder[key]``, copying each container on the way."""
    if node is None:
        return
    value = holder[key]
    if value is None:
        return
    if isinstance(node, EncryptedPath):
        slots.append(Slot(holder, key, node, owner))
        return
    element = node.get(LIST_STEP)
    if isinstance(value, list):
        if element is None:
            return
        items = list(value)
        holder[key] = items
        for index in range(len(items)):
            _collect(element, items, index, slots, owner)
    elif isinstance(value, Mapping):
        copied = dict(value)
        holder[key] = copied
        for name, child in node.items():
            if name != LIST_STEP and name in copied:
                _collect(child, copied, name, slots, owner)


def _node_at(tree: Node, steps: tuple[str, ...], path: str) -> Any:
    """The tree level an update path reaches, ``None`` if nothing below it is
    encrypted; refuses a path that reaches inside a whole encrypted value."""
    level: Any = tree
    for step in steps:
        if isinstance(level, EncryptedPath):
            raise ValidationError(
                f"{path} lies inside a value stored encrypted as a whole; "
                "set the whole value instead",
                field=path,
                rule="encrypted_whole_value",
            )
        level = level.get(step)
        if level is None:
            return None
    return level


def _touches(tree: Node, steps: tuple[str, ...]) -> bool:
    level: Any = tree
    for step in steps:
        if isinstance(level, EncryptedPath):
            return True
        level = level.get(step)
        if level is None:
            return False
    return True


def _update_steps(path: str) -> tuple[str, ...]:
    """An update path's steps, with every positional or index step as a list step."""
    return tuple(
        LIST_STEP if part.startswith("$") or part.isdigit() else part
        for part in path.split(".")
    )


def _is_ciphertext(value: Any) -> bool:
    return getattr(value, "subtype", None) == 6


def _model_paths(
    model: type[BaseModel], prefix: tuple[str, ...], seen: frozenset[type[Any]]
) -> Iterator[EncryptedPath]:
    if model in seen:
        return
    seen = seen | {model}
    for name, info in model.model_fields.items():
        marker = _marker(info.metadata)
        steps = (*prefix, info.alias or name)
        yield from _type_paths(info.annotation, steps, marker, seen)


def _type_paths(
    annotation: Any,
    steps: tuple[str, ...],
    marker: Encrypted | None,
    seen: frozenset[type[Any]],
) -> Iterator[EncryptedPath]:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extras = get_args(annotation)
        yield from _type_paths(base, steps, marker or _marker(extras), seen)
        return
    if marker is not None:
        yield EncryptedPath(steps, marker.algorithm)
        return
    if origin in (Union, types.UnionType):
        for member in get_args(annotation):
            yield from _type_paths(member, steps, None, seen)
    elif origin in (list, set, frozenset, tuple):
        for member in get_args(annotation):
            if member is not Ellipsis:
                yield from _type_paths(member, (*steps, LIST_STEP), None, seen)
    elif origin is dict or (isinstance(origin, type) and issubclass(origin, Mapping)):
        for member in get_args(annotation):
            for _ in _type_paths(member, (*steps, "{}"), None, seen):
                raise TypeError(
                    f"{'.'.join(steps)}: a value inside a mapping cannot be "
                    "encrypted on its own; mark the whole mapping Encrypted"
                )
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _model_paths(annotation, steps, seen)


def _marker(metadata: Any) -> Encrypted | None:
    for item in metadata or ():
        if isinstance(item, Encrypted):
            return item
    return None
