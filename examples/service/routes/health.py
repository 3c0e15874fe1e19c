"""The health check a load balancer polls: no sign-in, no record data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from ..state import ServiceState, service_state

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(
    state: Annotated[ServiceState, Depends(service_state)], response: Response
) -> dict[str, Any]:
    """Which backend the service runs on and whether the database answers a
    ping: 200 when it does, 503 when it does not."""
    report = await state.db.health()
    if not report.ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {
        "status": "ok" if report.ok else "unavailable",
        "backend": report.backend.value,
        "ping": "ok" if report.ok else "failed",
        "latency_ms": round(report.latency_ms, 3),
        "transactions": report.transactions,
        "detail": report.detail,
    }
