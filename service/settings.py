"""Configuration from the environment (one pydantic-settings class; no other module reads os.environ)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service import PROJECT_ROOT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'petitions.db'}",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... in production.",
    )
    models_dir: Path = Field(default=PROJECT_ROOT / "models", description="Where model bundles live.")
    api_keys: str = Field(default="", description="Comma-separated API keys for write endpoints.")
    classify_requires_key: bool = Field(default=False, description="Whether /v1/classify* needs a key too.")
    max_text_chars: int = Field(default=20_000, description="Longest petition text accepted.")
    max_batch_items: int = Field(default=1_000, description="Most items in one batch request.")
    default_province: str | None = Field(
        default=None, description="Province of the intake office when neither request nor text names one."
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL", description="SQLite durability: FULL syncs every commit (survives power loss); NORMAL "
                                    "(WAL) survives a crash of the service but may lose the last commits on power loss.")
    auto_migrate: bool = Field(default=True, description="Bring the schema up to date when the app starts.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Level of the service's log on stderr; INFO logs one line per request.")
    review_threshold_override: float | None = Field(
        default=None, description="Override the bundle's needs_review confidence threshold (0-1)."
    )

    @property
    def api_key_list(self) -> list[str]:
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
