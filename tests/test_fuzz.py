"""Schemathesis fuzz run of the OpenAPI schema: no generated request may produce a server error.

Driven through Hypothesis directly (one test per operation) because the app needs the session's trained
model, which schemathesis' pytest loaders cannot take from a fixture under pytest 9.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import API_KEY

# Derandomized in the suite so CI is reproducible; FUZZ_EXAMPLES=500 FUZZ_RANDOM=1 for a deeper, random run.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "60"))
DERANDOMIZE = not os.environ.get("FUZZ_RANDOM")


@pytest.fixture
def fuzz_schema(sqlite_url, models_dir, triager):
    from service.api.app import create_app
    from service.settings import Settings
    from service.store import migrate

    migrate(sqlite_url)
    app = create_app(Settings(database_url=sqlite_url, models_dir=models_dir, api_keys=API_KEY), triager=triager)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.slow
def test_no_server_errors(fuzz_schema):
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) >= 11
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=DERANDOMIZE,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call(headers={"X-API-Key": API_KEY})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        run()
    assert not failures, "\n".join(failures[:10])
