"""The tuned diarization configuration: one versioned YAML file, strict about its keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from diarize.errors import ConfigError
from models.assets import config_path
from models.config import DEFAULT_CONFIG, DiarizationConfig, load_config


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _default_document() -> dict:
    return yaml.safe_load(config_path(DEFAULT_CONFIG).read_text(encoding="utf-8"))


def test_default_file_ships_in_the_package_and_loads() -> None:
    config = load_config()
    assert isinstance(config, DiarizationConfig)
    assert isinstance(config.version, int) and config.version >= 1
    assert config.structure.segmentation == "segmentation-3.0"
    assert config.structure.embedding == "campplus"
    assert config.dependencies["pyannote.audio"] == "4.0.7"
    params = config.params.to_pyannote()
    assert set(params) == {"segmentation", "clustering"}
    assert set(params["clustering"]) == {"method", "threshold", "min_cluster_size"}
    assert -1.0 <= config.voiceprints.threshold <= 1.0


def test_default_file_is_found_from_any_working_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config().source.endswith(DEFAULT_CONFIG)


def test_config_is_frozen() -> None:
    config = load_config()
    with pytest.raises(AttributeError):
        config.params.clustering.threshold = 0.1  # type: ignore[misc]


def test_unknown_parameter_is_named(tmp_path) -> None:
    document = _default_document()
    document["params"]["clustering"]["treshold"] = 0.5
    with pytest.raises(ConfigError, match="treshold"):
        load_config(_write(tmp_path, document))


def test_unknown_top_level_key_is_named(tmp_path) -> None:
    document = _default_document()
    document["paramz"] = {}
    with pytest.raises(ConfigError, match="paramz"):
        load_config(_write(tmp_path, document))


def test_missing_parameter_is_named(tmp_path) -> None:
    document = _default_document()
    del document["voiceprints"]["threshold"]
    with pytest.raises(ConfigError, match=r"voiceprints\.threshold: missing"):
        load_config(_write(tmp_path, document))


@pytest.mark.parametrize(
    ("block", "key", "value", "message"),
    [
        ("clustering", "method", "kmeans", "method must be one of"),
        ("clustering", "threshold", 3.0, "threshold must be in"),
        ("clustering", "min_cluster_size", "ten", "expected a number"),
    ],
)
def test_bad_values_are_rejected(tmp_path, block, key, value, message) -> None:
    document = _default_document()
    document["params"][block][key] = value
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(_write(tmp_path, document))
    assert str(tmp_path / "config.yaml") in str(caught.value)


def test_soft_count_needs_soft_scores(tmp_path) -> None:
    document = _default_document()
    document["pipeline"]["params"]["soft_segmentation"] = False
    document["params"]["segmentation"]["threshold"] = None
    with pytest.raises(ConfigError, match="soft_count_offset must be null"):
        load_config(_write(tmp_path, document))


def test_non_yaml_and_missing_files(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [1,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config(bad)
    with pytest.raises(ConfigError, match="nothing.yaml"):
        load_config(tmp_path / "nothing.yaml")


def test_version_must_be_an_integer(tmp_path) -> None:
    document = _default_document()
    document["version"] = "1.0"
    with pytest.raises(ConfigError, match="version must be an integer"):
        load_config(_write(tmp_path, document))
