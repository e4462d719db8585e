"""One settings object for the whole platform, read from ``MEDAI_*`` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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
    stream_url: str | None = Field(default=None, description="Redis URL of the patient-partitioned Observation stream "
                                   "shared by several `medai serve` workers, e.g. redis://127.0.0.1:6379/0 (off when unset).")
    stream_workers: int = Field(default=1, ge=1, description="How many workers share the stream.")
    stream_worker_index: int = Field(default=0, ge=0, description="This worker's index, 0 .. stream_workers - 1.")
    stream_partitions: int = Field(default=64, ge=1, description="Stream partitions (patients are hashed onto them).")
    assistant_retention_days: int = Field(default=90, ge=1, le=3650, description="Days an assistant conversation is kept "
                                          "after its last message (patients may choose 1-3650).")
    assistant_crisis_level: Literal["low", "moderate", "high", "imminent"] = Field(
        default="moderate", description="Lowest crisis-screen risk that stops an assistant conversation.")
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail reminders (e-mail waits when unset).")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_sender: str = Field(default="medai@localhost", description="From address of e-mail reminders.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str | None = Field(default=None, description="SMTP login (none when unset).")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password (never logged).")
    token_ttl_hours: int = Field(default=12, description="Lifetime of tokens issued by the password flow.")
    max_upload_bytes: int | None = Field(default=None, description="Largest multipart file upload; `max_body_bytes` when unset.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API from a browser (CORS); none when empty.")
    sign_in_max_failures: int = Field(default=5, description="Failed sign-ins per username or client address before 429.")
    sign_in_window_seconds: int = Field(default=300, description="Window over which failed sign-ins are counted.")
    cds_jwt_max_lifetime_seconds: int = Field(default=600, description="Longest `exp - now` accepted in a CDS Hooks JWT.")
    max_in_flight: int = Field(default=32, ge=0, description="Requests one worker works on at once; more are answered 503 "
                               "with Retry-After at once instead of queueing (0: no bound). Health and metrics are exempt.")
    request_timeout_seconds: float | None = Field(default=30.0, gt=0, description="A request that has not started its "
                                                  "response after this many seconds is answered 504 (unset: no limit).")
    overload_retry_after_seconds: int = Field(default=1, ge=1, description="Retry-After sent with the 503 and 504 answers.")
    content_security_policy: str = Field(
        default="default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        description="Content-Security-Policy sent with every response (the API docs pages get one allowing their CDN).")

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
