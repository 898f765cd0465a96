"""Settings: typed, read from the environment, safe local defaults, secrets hidden, and
whatever can never work refused at load with a `SettingsError` naming the variable."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from elt import settings as settings_module
from elt.errors import USAGE, SettingsError
from elt.settings import Settings
from mock_apis.credentials import MOCK_HUBSPOT_TOKEN, MOCK_MAILCHIMP_API_KEY

PREFIXES = ("ELT_", "MAILCHIMP_", "HUBSPOT_", "MOCK_", "DBT_")
REAL_KEY = "5f3c9a0b1d2e4f60718293a4b5c6d7e8-us6"
MOCK_MC = "http://127.0.0.1:8900/3.0"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No variable of ours from the caller's shell, no `.env` in the working directory,
    and warnings about unknown variables reported afresh."""
    for name in list(os.environ):
        if name.upper().startswith(PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings_module, "_warned", set(), raising=False)
    return monkeypatch


def _no_pydantic_dump(err: BaseException) -> None:
    text = str(err)
    for pydantic_words in ("validation error for", "errors.pydantic.dev", "input_value=", "type="):
        assert pydantic_words not in text, text


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
    monkeypatch.setenv("MAILCHIMP_BASE_URL", MOCK_MC)
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
    monkeypatch.setenv("MAILCHIMP_API_KEY", "abc123abc123-us7")
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
    with pytest.raises(
        SettingsError, match=r"HUBSPOT_PAGE_SIZE='500': .*less than or equal to 100"
    ):
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
    monkeypatch.setenv("MAILCHIMP_BASE_URL", MOCK_MC)
    monkeypatch.setenv("MAILCHIMP_API_KEY", MOCK_MAILCHIMP_API_KEY)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-secret-token")
    s = Settings(_env_file=None)
    text = repr(s) + str(s.model_dump())
    assert MOCK_MAILCHIMP_API_KEY not in text
    assert "pat-secret-token" not in text


def test_env_example_names_only_variables_the_settings_or_the_compose_stack_read():
    root = Path(__file__).resolve().parents[2]
    example = root / ".env.example"
    from elt.airbyte import AirbyteSettings

    known = Settings.env_names() | {f"AIRBYTE_{f.upper()}" for f in AirbyteSettings.model_fields}
    for compose in [root / "docker-compose.yml", *sorted((root / "docker").glob("*.yml"))]:
        known |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", compose.read_text()))
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example.read_text(), re.MULTILINE))
    assert names, "no variables found in .env.example"
    assert names <= known, f".env.example names unknown variables: {sorted(names - known)}"


# --------------------------------------------------------------------------- base URLs
BAD_URLS = {
    "not a url": "no scheme",
    "api.hubapi.com": "no scheme",
    "ftp://api.hubapi.com": "the scheme 'ftp'",
    "http://127.0.0.1:99999": "bad port '99999'",
    "http://127.0.0.1:abc": "bad port 'abc'",
    "http://": "no valid host",
}


@pytest.mark.parametrize("variable", ["MAILCHIMP_BASE_URL", "HUBSPOT_BASE_URL"])
@pytest.mark.parametrize("url", list(BAD_URLS))
def test_a_base_url_no_client_can_reach_fails_at_load_naming_variable_and_problem(
    clean_env, variable, url
):
    clean_env.setenv(variable, url)
    with pytest.raises(SettingsError) as err:
        Settings(_env_file=None)
    assert f"{variable}={url!r}" in str(err.value)
    assert BAD_URLS[url] in str(err.value)
    assert err.value.exit_code == USAGE
    _no_pydantic_dump(err.value)


def test_base_urls_of_the_real_apis_and_the_mock_are_accepted(clean_env):
    clean_env.setenv("MAILCHIMP_API_KEY", REAL_KEY)
    clean_env.setenv("MAILCHIMP_BASE_URL", "https://us6.api.mailchimp.com/3.0/")
    clean_env.setenv("HUBSPOT_BASE_URL", "http://[::1]:8900")
    s = Settings(_env_file=None)
    assert s.source_config("mailchimp").url == "https://us6.api.mailchimp.com/3.0"
    assert s.source_config("hubspot").base_url == "http://[::1]:8900"


# --------------------------------------------------------------------------- values
@pytest.mark.parametrize("when", ["2099-01-01", "2099-01-01T00:00:00+00:00"])
def test_a_start_date_in_the_future_fails_at_load(clean_env, when):
    clean_env.setenv("ELT_START_DATE", when)
    with pytest.raises(SettingsError, match=r"ELT_START_DATE='2099-01-01.*in the future") as err:
        Settings(_env_file=None)
    _no_pydantic_dump(err.value)


def test_a_past_start_date_still_loads(clean_env):
    clean_env.setenv("ELT_START_DATE", "2023-06-01")
    assert Settings(_env_file=None).start_date.year == 2023


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_data_dir_fails_instead_of_writing_into_the_current_directory(clean_env, value):
    clean_env.setenv("ELT_DATA_DIR", value)
    with pytest.raises(SettingsError, match=r"ELT_DATA_DIR.*empty") as err:
        Settings(_env_file=None)
    _no_pydantic_dump(err.value)


def test_a_bad_value_is_a_settings_error_naming_the_variable_not_a_pydantic_dump(clean_env):
    clean_env.setenv("ELT_HTTP_TIMEOUT", "-1")
    with pytest.raises(SettingsError, match=r"ELT_HTTP_TIMEOUT='-1': .*greater than 0") as err:
        Settings(_env_file=None)
    _no_pydantic_dump(err.value)


# --------------------------------------------------------------------------- .env
def test_an_unparseable_env_line_fails_naming_the_file_and_line(clean_env, tmp_path):
    env = tmp_path / "broken.env"
    env.write_text(
        "ELT_DATA_DIR=./data\n"
        "# the real token, its closing quote lost\n"
        'HUBSPOT_ACCESS_TOKEN="pat-na1-4b1d2c3e-real-token\n'
        "HUBSPOT_BASE_URL=https://api.hubapi.com\n"
    )
    with pytest.raises(SettingsError) as err:
        Settings(_env_file=env)
    text = str(err.value)
    assert str(env) in text and "line 3" in text and "HUBSPOT_ACCESS_TOKEN" in text
    assert "pat-na1-4b1d2c3e" not in text  # the value may be a secret
    assert err.value.exit_code == USAGE


def test_a_broken_token_line_in_dot_env_never_falls_back_to_the_mock_token(clean_env, tmp_path):
    (tmp_path / ".env").write_text(
        "HUBSPOT_BASE_URL=http://127.0.0.1:8900\nHUBSPOT_ACCESS_TOKEN='pat-na1-real\n"
    )
    with pytest.raises(SettingsError, match=r"\.env, line 2"):
        Settings()  # the default .env, in the working directory


def test_a_source_reads_the_same_env_file_as_the_settings(clean_env, tmp_path):
    (tmp_path / ".env").write_text("HUBSPOT_BASE_URL=http://127.0.0.1:8900\n")
    other = tmp_path / "other.env"
    other.write_text("HUBSPOT_BASE_URL=http://localhost:9100\n")
    assert Settings().source_config("hubspot").base_url == "http://127.0.0.1:8900"
    assert Settings(_env_file=other).source_config("hubspot").base_url == "http://localhost:9100"
    bare = Settings(_env_file=None).source_config("hubspot", access_token="pat-na1-real-0001")
    assert bare.base_url == "https://api.hubapi.com"


# --------------------------------------------------------------------------- credentials
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"])
def test_the_mock_credentials_stand_in_only_for_a_loopback_base_url(clean_env, host):
    clean_env.setenv("MAILCHIMP_BASE_URL", f"http://{host}:8900/3.0")
    clean_env.setenv("HUBSPOT_BASE_URL", f"http://{host}:8900")
    s = Settings(_env_file=None)
    assert s.source_config("mailchimp").api_key.get_secret_value() == MOCK_MAILCHIMP_API_KEY
    assert s.source_config("hubspot").access_token.get_secret_value() == MOCK_HUBSPOT_TOKEN


@pytest.mark.parametrize(
    ("variable", "url", "credential"),
    [
        ("MAILCHIMP_BASE_URL", "https://us21.api.mailchimp.com/3.0", "MAILCHIMP_API_KEY"),
        ("HUBSPOT_BASE_URL", "https://api.hubapi.com", "HUBSPOT_ACCESS_TOKEN"),
        ("HUBSPOT_BASE_URL", "http://mock.example.com:8900", "HUBSPOT_ACCESS_TOKEN"),
    ],
)
def test_a_missing_credential_for_a_real_base_url_fails_at_load(
    clean_env, variable, url, credential
):
    clean_env.setenv(variable, url)
    with pytest.raises(SettingsError, match=f"{credential} is not set") as err:
        Settings(_env_file=None)
    assert url in str(err.value) and err.value.exit_code == USAGE


@pytest.mark.parametrize(
    ("source", "credential"),
    [("mailchimp", "MAILCHIMP_API_KEY"), ("hubspot", "HUBSPOT_ACCESS_TOKEN")],
)
def test_a_missing_credential_for_the_default_real_url_fails_when_the_source_is_used(
    clean_env, source, credential
):
    s = Settings(_env_file=None)  # transform, check, the mock: no source needed
    with pytest.raises(SettingsError, match=f"{credential} is not set, and the default"):
        s.source_config(source)
    mock = s.source_config(source, base_url="http://127.0.0.1:8900")  # e.g. `elt run --mock`
    assert mock.base_url == "http://127.0.0.1:8900"


def test_the_mock_key_against_a_real_url_is_refused(clean_env):
    clean_env.setenv("MAILCHIMP_API_KEY", MOCK_MAILCHIMP_API_KEY)
    clean_env.setenv("MAILCHIMP_BASE_URL", "https://us21.api.mailchimp.com/3.0")
    with pytest.raises(SettingsError, match="MAILCHIMP_API_KEY: the mock APIs' built-in"):
        Settings(_env_file=None)


def test_real_credentials_for_real_urls_load(clean_env):
    clean_env.setenv("MAILCHIMP_API_KEY", REAL_KEY)
    clean_env.setenv("HUBSPOT_ACCESS_TOKEN", "pat-eu1-0f0e0d0c-real")
    s = Settings(_env_file=None)
    assert s.source_config("mailchimp").url == "https://us6.api.mailchimp.com/3.0"
    assert s.source_config("hubspot").base_url == "https://api.hubapi.com"


# --------------------------------------------------------------------------- typos
def test_a_misspelled_variable_is_reported_naming_the_closest_known_one(clean_env, caplog):
    clean_env.setenv("ELT_DATADIR", "/tmp/x")
    clean_env.setenv("MAILCHIMP_APIKEY", "secret-value-never-printed")
    with caplog.at_level(logging.WARNING, logger="elt.settings"):
        Settings(_env_file=None)
    assert "ELT_DATADIR" in caplog.text and "did you mean ELT_DATA_DIR?" in caplog.text
    assert "did you mean MAILCHIMP_API_KEY?" in caplog.text
    assert "secret-value-never-printed" not in caplog.text


def test_a_misspelled_variable_in_dot_env_is_reported_too(clean_env, tmp_path, caplog):
    env = tmp_path / "typo.env"
    env.write_text("HUBSPOT_BASE_URL=http://127.0.0.1:8900\nHUBSPOT_ACESS_TOKEN=pat-x\n")
    with caplog.at_level(logging.WARNING, logger="elt.settings"):
        Settings(_env_file=env)
    assert "HUBSPOT_ACESS_TOKEN" in caplog.text
    assert "did you mean HUBSPOT_ACCESS_TOKEN?" in caplog.text


def test_variables_others_read_are_not_reported(clean_env, caplog):
    for name in ("ELT_REQUIRE_STACK", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "MOCK_APIS_URL"):
        clean_env.setenv(name, "1")
    clean_env.setenv("ELT_RAW_HUBSPOT_PATH", "/tmp/h.duckdb")
    clean_env.setenv("OTHER_TOOL_SETTING", "1")
    with caplog.at_level(logging.WARNING, logger="elt.settings"):
        Settings(_env_file=None)
    assert "no setting reads it" not in caplog.text


def test_env_example_loads_as_a_dot_env_without_errors_or_warnings(clean_env, tmp_path, caplog):
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    with caplog.at_level(logging.WARNING, logger="elt.settings"):
        Settings()
    assert "no setting reads it" not in caplog.text
