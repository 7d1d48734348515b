"""``/v1/petitions``: intake with triage and due dates, listing, one petition with its history, decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from service.api.deps import SessionDep, TaxonomyDep, TriagerDep, require_api_key
from service.api.errors import ApiError
from service.workdays import VIETNAM_TZ
from service.api.schemas import (
    DecisionCreate,
    ErrorOut,
    PetitionCreate,
    PetitionDetailOut,
    PetitionOut,
    PetitionPage,
    check_code,
)
from service.store import (
    DECIDED_FIELDS,
    CursorError,
    NewPetition,
    Petition,
    PetitionFilter,
    PetitionRecord,
    TransitionError,
    file_petition,
    get_petition,
    list_petitions,
    petition_record,
    record_decision,
    write_transaction,
)
from service.taxonomy import Taxonomy

router = APIRouter(prefix="/v1/petitions", tags=["petitions"], dependencies=[Depends(require_api_key)],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 422: {"model": ErrorOut}})

PetitionId = Annotated[str, Path(min_length=1, max_length=64, description="Petition id returned at intake.")]


def petition_summary(petition: Petition) -> dict:
    return {field: getattr(petition, field) for field in PetitionOut.model_fields}


def petition_detail(record: PetitionRecord) -> dict:
    return {**{field: record[field] for field in PetitionOut.model_fields}, "text": record["text"],
            "contact": record["contact"], "history": record["events"], "decisions": record["decisions"]}


@router.post("", status_code=201, response_model=PetitionDetailOut,
             responses={200: {"model": PetitionDetailOut, "description": "Already filed with this idempotency key"}},
             summary="File a petition: stores it with its triage, status 'new' and legal due dates")
async def create(body: PetitionCreate, request: Request, response: Response, triager: TriagerDep, tax: TaxonomyDep,
                 idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict:
    key = body.idempotency_key if body.idempotency_key is not None else idempotency_key
    if key is not None:
        key = key.strip()
        if not key:
            field = "idempotency_key" if body.idempotency_key is not None else "Idempotency-Key header"
            raise ApiError(422, "invalid_request", f"{field}: must not be empty (omit it to file without one)")
    # Triage on the event loop, as /v1/classify does (about a millisecond of CPU); then one hop to a worker
    # thread for the blocking database work, session included.
    triage = triager.triage(body.text, body.province, body.channel)
    now = datetime.now(UTC)
    data = NewPetition(text=body.text, channel=body.channel, received_at=body.received_at or now,
                       contact=body.contact.model_dump(exclude_none=True) if body.contact else None,
                       external_ref=body.external_ref, idempotency_key=key)
    rule = triage.departments[0].rule if triage.departments else None
    record, created = await run_in_threadpool(_file, request.app.state.session_factory, data, triage.as_dict(), tax,
                                              now, rule)
    if not created:
        response.status_code = 200  # already filed with this key: the first result, nothing stored twice
    return petition_detail(record)


def _file(factory: sessionmaker[Session], data: NewPetition, triage: dict, tax: Taxonomy, now: datetime,
          rule: str | None) -> tuple[PetitionRecord, bool]:
    with factory() as session:
        return file_petition(session, data, triage, tax, now, rule=rule)


@router.get("", response_model=PetitionPage, summary="List petitions, newest first, with filters and a cursor")
def list_(session: SessionDep,
          status: Annotated[str | None, Query(description="Status code")] = None,
          sector: Annotated[str | None, Query()] = None,
          department: Annotated[str | None, Query()] = None,
          commune: Annotated[str | None, Query(max_length=200, description="e.g. 'Phường Bàn Cờ'")] = None,
          needs_review: Annotated[bool | None, Query()] = None,
          received_from: Annotated[datetime | None, Query(description="Inclusive")] = None,
          received_to: Annotated[datetime | None, Query(description="Exclusive")] = None,
          cursor: Annotated[str | None, Query(max_length=500)] = None,
          limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
    for kind, value in (("status", status), ("sector", sector), ("department", department)):
        try:
            check_code(kind, value)
        except ValueError as exc:
            raise ApiError(422, "invalid_request", f"{kind}: {exc}") from exc
    filters = PetitionFilter(status, sector, department, commune, needs_review,
                             _aware(received_from), _aware(received_to))
    try:
        items, next_cursor = list_petitions(session, filters, limit, cursor)
    except CursorError as exc:
        raise ApiError(422, "invalid_request", f"cursor: {exc}") from exc
    return {"items": [petition_summary(p) for p in items], "next_cursor": next_cursor}


@router.get("/{petition_id}", response_model=PetitionDetailOut, responses={404: {"model": ErrorOut}},
            summary="One petition with its text, triage, history and decisions")
def read(petition_id: PetitionId, session: SessionDep) -> dict:
    return petition_detail(_load(session, petition_id))


@router.post("/{petition_id}/decision", response_model=PetitionDetailOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
             summary="An officer confirms or corrects the triage and may change the status")
def decide(petition_id: PetitionId, body: DecisionCreate, session: SessionDep, tax: TaxonomyDep) -> dict:
    with write_transaction(session):
        petition = get_petition(session, petition_id)
        if petition is None:
            raise ApiError(404, "not_found", f"petition_id: no petition with id {petition_id!r}")
        values = {field: getattr(body, field) or getattr(petition, field) for field in DECIDED_FIELDS}
        try:
            record_decision(session, petition, body.officer, values, body.status, tax, datetime.now(UTC), body.note)
        except TransitionError as exc:
            raise ApiError(409, "invalid_transition", f"status: {exc}") from exc
    return petition_detail(_load(session, petition_id))


def _load(session: Session, petition_id: str) -> PetitionRecord:
    session.expire_all()
    petition = get_petition(session, petition_id, with_history=True)
    if petition is None:
        raise ApiError(404, "not_found", f"petition_id: no petition with id {petition_id!r}")
    return petition_record(petition)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=VIETNAM_TZ) if value is not None and value.tzinfo is None else value
