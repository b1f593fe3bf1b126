"""Settings: env vars, overrides, and clear errors for malformed values."""
from __future__ import annotations

from pathlib import Path

import pytest

from fedserver.config import ConfigError, load_settings


def test_defaults_follow_the_contract() -> None:
    settings = load_settings(environ={})
    assert settings.domain == "localhost:8000"
    assert settings.data_dir == Path("fedserver-data")
    assert settings.database_url == f"sqlite+aiosqlite:///{Path('fedserver-data/fedserver.db').resolve()}"
    assert settings.base_url == "https://localhost:8000"
    assert settings.registrations == "open"
    assert not settings.allow_private_network


def test_flags_override_environment() -> None:
    environ = {"FEDSERVER_DOMAIN": "moers.social", "FEDSERVER_HTTP": "1", "FEDSERVER_CITY_NAME": "Moers"}
    settings = load_settings({"domain": "localhost:8001"}, environ=environ)
    assert settings.domain == "localhost:8001"
    assert settings.base_url == "http://localhost:8001"
    assert settings.city.name == "Moers"


def test_city_facts_come_from_environment() -> None:
    settings = load_settings(environ={"FEDSERVER_CITY_LATITUDE": "51.16", "FEDSERVER_CITY_LONGITUDE": "7.08",
                                      "FEDSERVER_CITY_RADIUS_KM": "25", "FEDSERVER_CITY_NAME": "Solingen"})
    assert (settings.city.name, settings.city.latitude, settings.city.longitude, settings.city.radius_km) == (
        "Solingen", 51.16, 7.08, 25.0)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"domain": "https://moers.social"}, "domain"),
        ({"domain": "moers social"}, "domain"),
        ({"domain": "localhost:99999"}, "domain"),
        ({"database_url": "mysql://x"}, "database URL"),
        ({"registrations": "sometimes"}, "registrations"),
        ({"port": "eighty"}, "port"),
        ({"city.latitude": "91"}, "latitude"),
        ({"city.longitude": "east"}, "longitude"),
        ({"city.radius_km": "-3"}, "radius_km"),
        ({"use_http": "maybe"}, "FEDSERVER_HTTP"),
    ],
)
def test_malformed_values_are_refused_with_the_setting_named(overrides: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(overrides, environ={})


def test_postgres_url_is_accepted() -> None:
    url = "postgresql+asyncpg://fed@127.0.0.1:5432/moers"
    assert load_settings({"database_url": url}, environ={}).database_url == url
