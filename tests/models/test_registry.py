from pathlib import Path

import pytest

from models import registry
from services.common.config import Settings
from services.common.errors import ConfigurationError
from services.common.stamps import sha256_file


def test_bundled_whisper_is_joined_once_and_verified(tmp_path: Path) -> None:
    folder = registry.prepare_bundled_whisper(tmp_path)
    model_bin = folder / "model.bin"
    assert sha256_file(model_bin) == registry.BUNDLED_WHISPER_SHA256
    expected = {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert {p.name for p in folder.iterdir()} == expected
    stamp = model_bin.stat().st_mtime_ns
    assert registry.prepare_bundled_whisper(tmp_path) == folder
    assert model_bin.stat().st_mtime_ns == stamp  # prepared once, not joined again


def test_a_configured_model_folder_must_be_ctranslate2(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    settings = Settings(data_dir=tmp_path / "var", whisper_model=str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"model\.bin"):
        registry.whisper_model_dir(settings)


def test_a_configured_folder_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    settings = Settings(data_dir=tmp_path / "var", whisper_model=str(tmp_path), device="cuda")
    assert registry.whisper_model_dir(settings) == tmp_path
    assert registry.whisper_compute_type(settings) == "float16"
    assert registry.whisper_compute_type(Settings(device="cpu")) == "int8"


def test_whisper_languages_are_read_from_the_model_files(model_cache_dir: Path) -> None:
    # The API validates language codes without loading the weights. faster-whisper lists every code it knows
    # for any multilingual model; the files say which ones this model has (base: 99, no "yue").
    settings = Settings(model_cache_dir=model_cache_dir)
    languages = registry.whisper_languages(settings)
    assert {"da", "en", "sv", "de"} <= languages
    assert languages <= frozenset(registry.load_whisper(settings).supported_languages)
    assert len(languages) == 99
