"""Schema migrations with Alembic, run programmatically (no alembic.ini needed)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the migrations shipped inside the `models` package."""
    config = Config()
    config.set_main_option("script_location", str(files("models") / "migrations"))
    config.set_main_option(
        "sqlalchemy.url",
        engine.url.render_as_string(hide_password=False).replace("%", "%%"),
    )
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision, in one transaction."""
    upgrade(engine, "head")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade to `revision` (``head``, an id, or ``+1``) in one transaction."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    """Downgrade to `revision` (an id, ``-1`` for one step, or ``base``) in one transaction."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
