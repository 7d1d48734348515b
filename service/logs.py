"""Logging of the HTTP service: one line per record on stderr, the same in every worker process.

uvicorn applies this dictionary in each worker it starts (``log_config``), so the request lines of
``service.api.middleware`` (method, path, status, time, request id: never bodies, query strings or headers)
reach the operator's log collector. uvicorn's own access log is left off: it would add the client address and
the query string, and ``GET /v1/petitions`` filters can carry a commune or a date range of one citizen.
"""

from __future__ import annotations

from typing import Any

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary: ``level`` for the service's and uvicorn's loggers."""
    if level.upper() not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; one of {', '.join(LEVELS)}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"}},
        "loggers": {
            "service": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }
