"""One settings object for the whole platform, read from ``MEDAI_*`` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "medai"


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``MEDAI_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MEDAI_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Folder for the default database and user files.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in `home` when unset.")
    data_dir: Path | None = Field(default=None, description="Root of the public datasets (loaders look here).")
    model_dirs: list[Path] = Field(default_factory=list, description="Extra folders holding user model packages.")
    secret_key: str | None = Field(default=None, description="Key that signs session cookies; generated and kept in `home` when unset.")
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of the service (the `aud` of CDS Hooks JWTs).")
    max_body_bytes: int = Field(default=20 * 1024 * 1024, description="Largest request body the service accepts.")
    mqtt_url: str | None = Field(default=None, description="MQTT broker for device feeds, e.g. mqtt://127.0.0.1:1883 (off when unset).")
    token_ttl_hours: int = Field(default=12, description="Lifetime of tokens issued by the password flow.")

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.home / 'medai.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
