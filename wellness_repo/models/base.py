"""The base every stored record derives from: id, schema version, revision and
timestamps, with one convention for all collections."""

from __future__ import annotations

from typing import Any, ClassVar

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field

from wellness_repo.models.types import ID_PATTERN, UtcDatetime, new_id, utc_now
from wellness_repo.security.access_rules import AccessRule

__all__ = ["EmbeddedModel", "SoftDeletableDocument", "WellnessDocument"]


class EmbeddedModel(BaseModel):
    """A sub-document that belongs to exactly one parent record (a goal of a plan,
    a contact of a safety plan)."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, revalidate_instances="always"
    )


class WellnessDocument(Document):
    """A record stored in its own collection.

    Subclasses name their collection in ``Settings.name`` and may set:

    - ``SCHEMA_VERSION``: the version new records are written with (stored as
      ``_version``); older stored records are upgraded on read by the migrations
      registered for the model;
    - ``ID_NAME``: the name the platform uses for the id (``entry_id``), offered as a
      read-only property next to ``id``;
    - ``PATIENT_FIELD``: the field holding the id of the patient the record is
      about (``user_id``, ``patient_id``), which access control scopes by;
      ``None`` for records about no single patient (a provider);
    - ``ACCESS``: the kind of record for the role policy (an ``AccessRule``:
      clinical, patient-authored, account...); a model without one is reachable
      by system contexts only.

    ``revision`` counts successful writes; an update based on an older revision is
    refused, so no change is silently overwritten.
    """

    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        validate_assignment=True,
        arbitrary_types_allowed=False,
        # A record handed to a repository is validated again as it stands: a
        # list mutated in place, or a model_copy with a bad value, is caught.
        revalidate_instances="always",
    )

    SCHEMA_VERSION: ClassVar[int] = 1
    ID_NAME: ClassVar[str] = "id"
    PATIENT_FIELD: ClassVar[str | None] = None
    ACCESS: ClassVar[AccessRule | None] = None

    # Ids are strings at the API (DESIGN.md rule 8), not Beanie's ObjectIds.
    id: str = Field(  # type: ignore[assignment]
        default_factory=new_id, alias="_id", pattern=ID_PATTERN
    )
    revision: int = Field(default=0, alias="_rev", ge=0)
    created_at: UtcDatetime = Field(default_factory=utc_now)
    updated_at: UtcDatetime | None = None

    def __init__(self, /, **data: Any) -> None:
        # Beanie's own __init__ insists the class is bound to a database already;
        # our records are plain values until a repository stores them.
        BaseModel.__init__(self, **data)

    # Tells pydantic this __init__ only validates, so model_validate need not call
    # it again from inside validation (Beanie's __init__ would double the cost).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    # LazyModel (Beanie's base) routes every attribute read through Python for lazy
    # parsing, which these documents never use; plain lookup is five times faster.
    __getattribute__ = object.__getattribute__

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _drop_beanie_hooks(cls)

    @classmethod
    def entity_name(cls) -> str:
        """The name errors, logs and audit entries use for this kind of record."""
        return cls.__name__

    @classmethod
    def collection_name(cls) -> str:
        """The MongoDB collection the records live in."""
        settings = getattr(cls, "Settings", None)
        name = getattr(settings, "name", None)
        if not isinstance(name, str):
            raise TypeError(f"{cls.__name__}.Settings.name must name its collection")
        return name


def _drop_beanie_hooks(cls: type[WellnessDocument]) -> None:
    """Take two per-record Python calls of Beanie's out of validation.

    Every record read is validated, a thousand on a page, and each Python call
    pydantic makes per record costs about as much as a field:

    - Beanie's ``fill_back_refs`` before-validator resolves Links, and these
      documents store ids, never Links;
    - the ``model_post_init`` pydantic adds for Beanie's private attributes fills
      in lazy-parsing and save-state bookkeeping that these records never use
      (repositories write whole validated documents; Beanie's save and state
      methods are not part of this package's API), so it stays unset.

    Pydantic collects validators again for every subclass, from Beanie's
    ``Document`` too, so each class drops them and rebuilds its validator once,
    at import. A class whose schema waits on a forward reference is left to its
    deferred build, which sees the same settings.
    """
    cls.__pydantic_decorators__.model_validators.pop("fill_back_refs", None)
    cls.__pydantic_post_init__ = None
    if cls.__pydantic_complete__:
        cls.model_rebuild(force=True)


class SoftDeletableDocument(WellnessDocument):
    """A record that is never physically removed by ``delete``.

    Deleting marks it; marked records are invisible to every query and stay in the
    collection for the audit trail.
    """

    deleted_at: UtcDatetime | None = None
    deleted_by: str | None = None
