"""Taxonomy, statistics, model information and health."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.api.deps import SessionDep, TaxonomyDep, TriagerDep, require_api_key
from service.api.errors import ApiError
from service.api.schemas import ErrorOut
from service.model import BundleError
from service.store import stats

router = APIRouter(tags=["meta"])


@router.get("/v1/taxonomy", summary="Codes and names of sectors, types, urgency levels, departments, statuses")
def taxonomy(tax: TaxonomyDep) -> dict:
    return {
        "version": tax.version,
        "sectors": [{"code": s.code, "name": s.name, "default_department": s.default_department}
                    for s in tax.sectors.values()],
        "petition_types": [{"code": p.code, "name": p.name, "legal_basis": p.legal_basis} for p in tax.petition_types.values()],
        "urgency_levels": [{"code": u.code, "name": u.name} for u in tax.urgency_levels.values()],
        "departments": [{"code": d.code, "name": d.name, "level": d.level, "province_specific": d.province_specific,
                         "fallback": d.fallback} for d in tax.departments.values()],
        "channels": [{"code": c.code, "name": c.name} for c in tax.channels.values()],
        "statuses": [{"code": s.code, "name": s.name, "next": list(s.next)} for s in tax.statuses.values()],
    }


@router.get("/v1/stats", summary="Counts by sector, department, status; overdue; share of suggestions confirmed")
def statistics(session: SessionDep, tax: TaxonomyDep) -> dict:
    return stats(session, tax, datetime.now(UTC))


@router.get("/v1/model", summary="The model being served: version, training date, metrics, label sets")
def model_info(triager: TriagerDep) -> dict:
    bundle = triager.bundle
    return {"version": bundle.version, "trained_at": bundle.trained_at, "data_hash": bundle.data_hash,
            "metrics": bundle.metrics, "thresholds": bundle.thresholds, "labels": bundle.labels,
            "libraries": bundle.libraries}


@router.post("/v1/admin/model/reload", dependencies=[Depends(require_api_key)],
             responses={401: {"model": ErrorOut}, 409: {"model": ErrorOut}},
             summary="Load the bundle models/CURRENT names; a bad bundle is refused and the old one stays")
def reload_model(request: Request) -> dict:
    holder = request.app.state.model_holder
    try:
        triager = holder.reload()
    except BundleError as exc:
        current = holder.triager
        raise ApiError(409, "model_refused",
                       f"{exc}; still serving {current.version if current else 'no model'}") from exc
    return {"version": triager.version, "trained_at": triager.bundle.trained_at}


@router.get("/health", summary="The process is alive")
def health() -> dict:
    return {"status": "ok"}


@router.get("/ready", summary="A model is loaded and the database answers", responses={503: {"model": ErrorOut}})
def ready(request: Request) -> JSONResponse:
    holder = request.app.state.model_holder
    checks = {"model": holder.triager is not None, "database": False}
    try:
        with request.app.state.session_factory() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        pass
    body = {"status": "ready" if all(checks.values()) else "not_ready", "checks": checks,
            "model_version": holder.triager.version if holder.triager else None}
    if holder.last_error and holder.triager is None:
        body["model_error"] = holder.last_error
    return JSONResponse(body, status_code=200 if all(checks.values()) else 503)
