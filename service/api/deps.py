"""Dependencies shared by the routers, as ``Annotated`` aliases (FastAPI full-stack template style)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from service.api.errors import ApiError
from service.settings import Settings
from service.taxonomy import Taxonomy, load_taxonomy
from service.triage import Triager

log = logging.getLogger("service.api")


# Dependencies without I/O are ``async``: FastAPI runs plain ``def`` dependencies in its threadpool, a thread
# hop per request that the classify path (about 1 ms of work) cannot afford.


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


async def get_triager(request: Request) -> Triager:
    triager = request.app.state.model_holder.triager
    if triager is None:
        raise ApiError(503, "model_unavailable", "no model is loaded: run 'python -m training train', then reload")
    return triager


async def get_taxonomy() -> Taxonomy:
    return load_taxonomy()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
TriagerDep = Annotated[Triager, Depends(get_triager)]
TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]


def _check_key(settings: Settings, key: str | None) -> None:
    keys = settings.api_key_list
    if not keys:
        log.warning("write request refused: no API key is configured (set API_KEYS)")
        raise ApiError(403, "no_api_keys_configured",
                       "this endpoint needs an API key and the service has none configured (API_KEYS)")
    if not key:
        raise ApiError(401, "missing_api_key", "send your API key in the X-API-Key header")
    # Compare against every key, always, so timing does not reveal which prefix matched.
    matched = False
    for candidate in keys:
        matched |= hmac.compare_digest(candidate.encode(), key.encode())
    if not matched:
        raise ApiError(401, "invalid_api_key", "the X-API-Key header does not hold a valid key")


async def require_api_key(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    _check_key(settings, x_api_key)


async def classify_access(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    if settings.classify_requires_key:
        _check_key(settings, x_api_key)
