"""The demo behind ``wellness-repo demo``: one patient's care pathway, told
through the public API on the embedded backend (or a real server with ``--uri``).
"""

from __future__ import annotations

import sys
from typing import TextIO

from wellness_repo.database.manager import connect
from wellness_repo.demo.operations import book_follow_up, review_medication
from wellness_repo.demo.pathway import CarePathway
from wellness_repo.demo.printing import PathwayPrinter
from wellness_repo.models.types import new_id
from wellness_repo.security.context import AccessContext

__all__ = ["run_demo"]


async def run_demo(
    uri: str | None = None, database: str | None = None, out: TextIO | None = None
) -> None:
    """Walk one patient's care pathway and print each step.

    Args:
        uri: a MongoDB server; the embedded backend when None.
        database: the database to use on that server. Without it the demo
            writes to a database of its own and removes it afterwards.
        out: where to print (standard output by default).
    """
    printer = PathwayPrinter(out or sys.stdout)
    scratch = uri is not None and database is None
    name = f"wellness_demo_{new_id()}" if scratch else database or "wellness_demo"
    db = await connect(uri, name, context=AccessContext.system("demo-enrolment"))
    try:
        health = await db.health()
        printer.fact(
            f"backend {health.backend}, server {health.server_version}, "
            f"ping {health.latency_ms:.2f} ms"
        )
        pathway = CarePathway(db, printer)
        cast = await pathway.enrol()
        relationship_id = await pathway.begin_care(cast)
        await pathway.track_progress(cast, relationship_id)
        await pathway.respond_to_crisis(cast)
        await book_follow_up(db, printer, cast)
        await review_medication(db, printer, cast)
        await pathway.review_audit(cast)
    finally:
        if scratch:
            await db.client.drop_database(db.database_name)
        await db.close()
