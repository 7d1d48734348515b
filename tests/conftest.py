"""Shared fixtures: one model trained from the committed corpus per test session, and real databases.

PostgreSQL tests use the server on 127.0.0.1:5432 (trust auth, user postgres), each in a database created
for the test and dropped after it; set ``TEST_POSTGRES_URL`` to point elsewhere. They are never mocked.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.model import ModelBundle
from service.routing import default_router
from service.settings import Settings
from service.taxonomy import load_taxonomy
from service.triage import Triager

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
API_KEY = "test-key-0123456789"


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """Train on the committed corpus once; every model-dependent test shares the result."""
    from training.train import train

    models_dir = tmp_path_factory.mktemp("models")
    return train(models_dir, quiet=True)


@pytest.fixture(scope="session")
def bundle(trained) -> ModelBundle:
    return trained.bundle


@pytest.fixture(scope="session")
def models_dir(trained) -> Path:
    return trained.directory.parent


@pytest.fixture(scope="session")
def triager(bundle, taxonomy) -> Triager:
    return Triager(bundle, default_router(), taxonomy)


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} (CI must start it)")
        pytest.skip("PostgreSQL is not reachable")
    name = f"petitions_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'petitions.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """Both backends: storage and API tests run against each."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def settings(database_url, models_dir) -> Settings:
    return Settings(database_url=database_url, models_dir=models_dir, api_keys=API_KEY)


@pytest.fixture
def client(settings, triager):
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    with TestClient(create_app(settings, triager=triager)) as test_client:
        yield test_client


@pytest.fixture
def auth() -> dict[str, str]:
    return {"X-API-Key": API_KEY}
