"""Settings from the environment (prefix ESSENCE_), with the embedded SQLite default."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///essence.db"


class Settings(BaseSettings):
    """Runtime configuration.

    Attributes:
        database_url: SQLAlchemy URL; a SQLite file by default, PostgreSQL via
            ``postgresql+psycopg://user@host:5432/db``.
        user: The user id commands run as when ``--as`` is not given.
        connect_timeout_s: Seconds to wait for a database server before giving up.
    """

    model_config = SettingsConfigDict(env_prefix="ESSENCE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    user: str | None = None
    connect_timeout_s: int = Field(default=5, ge=1)
