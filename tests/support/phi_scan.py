"""The suite-wide check of rule 4: no log line carries the test data's PHI.

Every log record emitted while the suite runs, at every level and from every
logger (the package's and the driver's), is compared with the personal details
the test data uses: note text, names, emails and phone numbers. The markers are
collected from the data builders themselves, so a new builder is covered without
anyone remembering to list its text here.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PhiLeak", "PhiLogScanner", "collect_markers"]

_EMAIL = re.compile(r"[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")
# Free text shorter than this is too likely to be a label ("Adult Therapy") that
# is legitimately part of an operational message, such as an enum name.
_MIN_TEXT = 24
_PERSON = re.compile(r"^(?:Dr\.? )?[A-Z][a-z]+(?:[ -][A-Z][a-z']+)+$")
# Module-level constants in test files whose names say they hold personal data.
_PERSONAL_NAMES = re.compile(r"(NOTE|NAME|EMAIL|PHONE|TEXT|CONTENT|MESSAGE|REASON)")


@dataclass(frozen=True, slots=True)
class PhiLeak:
    """One log record that carried personal data: where, and which kind."""

    test: str
    logger: str
    kind: str


def collect_markers(tests_root: Path) -> frozenset[str]:
    """The personal strings the suite's data uses.

    Every free-text literal of ``support/*_data.py`` (the builders of realistic
    records), every module-level constant of a test module whose name says it is
    personal (``NOTE``, ``PATIENT_NAME``, ``EMAIL``...), every literal of a test
    module shaped like a person's name, and every email address or phone number
    written anywhere under ``tests/``.
    """
    markers: set[str] = set()
    for path in sorted(tests_root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        markers.update(_EMAIL.findall(source))
        markers.update(_PHONE.findall(source))
        tree = ast.parse(source)
        if path.parent.name == "support" and path.stem.endswith("_data"):
            markers.update(_free_text(ast.walk(tree)))
        else:
            markers.update(_personal_constants(tree))
            markers.update(_person_names(ast.walk(tree)))
    return frozenset(markers)


def _free_text(nodes: Iterable[ast.AST]) -> Iterable[str]:
    docstrings = set()
    for node in nodes:
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and (
                (len(node.value) >= _MIN_TEXT and " " in node.value)
                or _PERSON.match(node.value)
            )
        ):
            yield node.value


def _person_names(nodes: Iterable[ast.AST]) -> Iterable[str]:
    for node in nodes:
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _PERSON.match(node.value)
        ):
            yield node.value


def _personal_constants(tree: ast.Module) -> Iterable[str]:
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)):
            continue
        value = node.value.value
        names = [target.id for target in node.targets if isinstance(target, ast.Name)]
        if (
            isinstance(value, str)
            and len(value) >= 8
            and any(_PERSONAL_NAMES.search(name) for name in names)
        ):
            yield value


class PhiLogScanner(logging.Handler):
    """A handler that notes every record carrying a marker, email or phone number.

    It keeps only where the leak happened and what kind it was, never the text.
    """

    def __init__(self, markers: frozenset[str]) -> None:
        super().__init__(level=logging.NOTSET)
        self.markers = markers
        self.current_test = "(outside a test)"
        self.leaks: list[PhiLeak] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + str(record.exc_info[1])
        kind = self._kind(text)
        if kind is not None:
            self.leaks.append(PhiLeak(self.current_test, record.name, kind))

    def _kind(self, text: str) -> str | None:
        if _EMAIL.search(text):
            return "an email address"
        if _PHONE.search(text):
            return "a phone number"
        for marker in self.markers:
            if marker in text:
                return "test-data free text or a name"
        return None
