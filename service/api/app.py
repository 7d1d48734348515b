"""The ASGI application factory ``service.api.app:create_app`` (``uvicorn --factory``, or gunicorn
``'service.api.app:create_app()'``)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api import errors
from service.api.middleware import RequestIdMiddleware
from service.api.routers import classify, meta, petitions
from service.model import BundleError
from service.serving import ModelHolder
from service.settings import Settings, get_settings
from service.store import make_engine, migrate, session_factory
from service.triage import Triager

log = logging.getLogger("service.api")

DESCRIPTION = """
Phân loại đơn thư, phản ánh, kiến nghị của công dân: lĩnh vực, loại đơn, mức độ khẩn, cơ quan đề xuất xử lý.

Triage of Vietnamese citizens' petitions for reception boards and hotline intake. `/v1/classify*` stores
nothing; `/v1/petitions*` (API key in `X-API-Key`) files petitions and records officers' decisions.
Codes: `GET /v1/taxonomy`.
"""


def create_app(settings: Settings | None = None, triager: Triager | None = None) -> FastAPI:
    """Build the app. ``triager`` pins a model (tests); otherwise the bundle models/CURRENT names is served."""
    settings = settings or get_settings()
    holder = ModelHolder.of(triager) if triager else ModelHolder(settings.models_dir, settings.review_threshold_override)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.auto_migrate:
            migrate(settings.database_url)
        if not settings.api_key_list:
            log.warning("no API key configured (API_KEYS): every /v1/petitions* request will be refused")
        if holder.triager is None:
            try:
                holder.reload()
            except BundleError as exc:
                log.error("starting without a model: %s", exc)
        follower = asyncio.create_task(holder.follow()) if holder.follows_current else None
        yield
        if follower is not None:
            follower.cancel()
        engine.dispose()

    engine = make_engine(settings.database_url, settings.sqlite_synchronous)
    app = FastAPI(title="Petition triage (Phân loại đơn thư)", version="1.0", description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.model_holder = holder
    app.state.session_factory = session_factory(engine)
    app.add_middleware(RequestIdMiddleware)
    errors.install(app)
    for module in (classify, petitions, meta):
        app.include_router(module.router)
    return app
