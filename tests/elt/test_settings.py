"""Settings: typed, read from the environment, safe local defaults, secrets hidden."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from elt.settings import Settings
from mock_apis.credentials import MOCK_MAILCHIMP_API_KEY


def test_defaults_are_local_and_point_at_the_repo_data_dir(monkeypatch):
    for var in ("ELT_DATA_DIR", "MAILCHIMP_BASE_URL", "MOCK_HOST", "ELT_WAREHOUSE_PATH"):
        monkeypatch.delenv(var, raising=False)
    s = Settings(_env_file=None)
    assert s.mock_host == "127.0.0.1"
    assert s.data_dir.name == "data"
    assert s.raw_path("hubspot") == s.data_dir / "raw" / "hubspot.duckdb"
    assert s.warehouse == s.data_dir / "warehouse.duckdb"


def test_environment_overrides_paths_ports_and_sizes(monkeypatch, tmp_path):
    monkeypatch.setenv("ELT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOCK_PORT", "8901")
    monkeypatch.setenv("MAILCHIMP_PAGE_SIZE", "250")
    monkeypatch.setenv("ELT_WAREHOUSE_PATH", str(tmp_path / "wh.duckdb"))
    s = Settings(_env_file=None)
    assert s.data_dir == tmp_path
    assert s.mock_port == 8901
    assert s.source_config("mailchimp").page_size == 250
    assert s.warehouse == tmp_path / "wh.duckdb"
    assert s.dbt_env()["ELT_RAW_MAILCHIMP_PATH"] == str(tmp_path / "raw" / "mailchimp.duckdb")


def test_mailchimp_base_url_defaults_to_the_keys_data_centre(monkeypatch):
    monkeypatch.delenv("MAILCHIMP_BASE_URL", raising=False)
    monkeypatch.setenv("MAILCHIMP_API_KEY", "abc123-us7")
    assert Settings(_env_file=None).source_config("mailchimp").url == (
        "https://us7.api.mailchimp.com/3.0"
    )


def test_explicit_mailchimp_base_url_wins_and_loses_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("MAILCHIMP_BASE_URL", "http://127.0.0.1:9/3.0/")
    assert Settings(_env_file=None).source_config("mailchimp").url == "http://127.0.0.1:9/3.0"


def test_a_key_without_data_centre_and_no_base_url_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("MAILCHIMP_BASE_URL", raising=False)
    monkeypatch.setenv("MAILCHIMP_API_KEY", "nodatacentre")
    with pytest.raises(ValueError, match="MAILCHIMP_API_KEY must end in '-<dc>'"):
        _ = Settings(_env_file=None).source_config("mailchimp").url


def test_out_of_range_page_size_is_rejected_naming_the_field(monkeypatch):
    monkeypatch.setenv("HUBSPOT_PAGE_SIZE", "500")
    with pytest.raises(ValidationError, match="HUBSPOT_PAGE_SIZE"):
        Settings(_env_file=None)


def test_each_source_reads_its_own_prefixed_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("ELT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-from-env")
    monkeypatch.setenv("HUBSPOT_REQUESTS_PER_10S", "190")
    monkeypatch.setenv("ELT_HTTP_MAX_RETRIES", "3")
    cfg = Settings(_env_file=None).source_config("hubspot")
    assert cfg.access_token.get_secret_value() == "pat-from-env"
    assert cfg.requests_per_10s == 190
    assert cfg.http_max_retries == 3
    assert cfg.raw_path == tmp_path / "raw" / "hubspot.duckdb"


def test_credentials_never_show_in_repr_or_dump(monkeypatch):
    monkeypatch.setenv("MAILCHIMP_API_KEY", MOCK_MAILCHIMP_API_KEY)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-secret-token")
    s = Settings(_env_file=None)
    text = repr(s) + str(s.model_dump())
    assert MOCK_MAILCHIMP_API_KEY not in text
    assert "pat-secret-token" not in text


def test_env_example_names_only_variables_the_settings_or_the_compose_stack_read():
    root = Path(__file__).resolve().parents[2]
    example = root / ".env.example"
    known = Settings.env_names()
    for compose in [root / "docker-compose.yml", *sorted((root / "docker").glob("*.yml"))]:
        known |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", compose.read_text()))
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example.read_text(), re.MULTILINE))
    assert names, "no variables found in .env.example"
    assert names <= known, f".env.example names unknown variables: {sorted(names - known)}"
