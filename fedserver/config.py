"""Settings: FEDSERVER_* environment variables, overridden by command-line flags."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

REGISTRATION_MODES = ("open", "approval", "closed")

# host, or host:port; a host is a DNS name, an IPv4 address or a bracketed IPv6 address.
_DOMAIN = re.compile(
    r"^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?$"
)


class ConfigError(ValueError):
    """A setting has a value the server cannot run with; the message names the setting."""


@dataclass(frozen=True)
class CityFacts:
    """What the instance tells the world about its city."""

    name: str = "Moers"
    description: str = "Das soziale Netzwerk der Stadt Moers: Menschen, Vereine, Geschäfte und die Stadt."
    latitude: float = 51.4516
    longitude: float = 6.6408
    radius_km: float = 15.0
    contact_email: str = ""


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start; build it with `load_settings`."""

    domain: str = "localhost:8000"
    data_dir: Path = Path("fedserver-data")
    database_url: str = ""
    use_http: bool = False
    allow_private_network: bool = False
    registrations: str = "open"
    host: str = "127.0.0.1"
    port: int = 8000
    node_id: int = 0
    city: CityFacts = field(default_factory=CityFacts)

    @property
    def scheme(self) -> str:
        return "http" if self.use_http else "https"

    @property
    def base_url(self) -> str:
        """The origin of every URL this instance mints, e.g. https://moers.social."""
        return f"{self.scheme}://{self.domain}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# name of the Settings field (or city.<field>) -> environment variable
_ENV = {
    "domain": "FEDSERVER_DOMAIN",
    "data_dir": "FEDSERVER_DATA_DIR",
    "database_url": "FEDSERVER_DATABASE_URL",
    "use_http": "FEDSERVER_HTTP",
    "allow_private_network": "FEDSERVER_ALLOW_PRIVATE_NETWORK",
    "registrations": "FEDSERVER_REGISTRATIONS",
    "host": "FEDSERVER_HOST",
    "port": "FEDSERVER_PORT",
    "node_id": "FEDSERVER_NODE_ID",
    "city.name": "FEDSERVER_CITY_NAME",
    "city.description": "FEDSERVER_CITY_DESCRIPTION",
    "city.latitude": "FEDSERVER_CITY_LATITUDE",
    "city.longitude": "FEDSERVER_CITY_LONGITUDE",
    "city.radius_km": "FEDSERVER_CITY_RADIUS_KM",
    "city.contact_email": "FEDSERVER_CONTACT_EMAIL",
}


def env_name(key: str) -> str:
    """The environment variable that carries a setting (used in help texts and errors)."""
    return _ENV[key]


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read FEDSERVER_* variables, apply non-None overrides, validate; raises ConfigError."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {key: environ[var] for key, var in _ENV.items() if environ.get(var, "") != ""}
    for key, value in (overrides or {}).items():
        if value is not None:
            raw[key] = value
    city = CityFacts(**{key[5:]: _city_value(key, value) for key, value in raw.items() if key.startswith("city.")})
    data_dir = Path(str(raw.get("data_dir", "fedserver-data"))).expanduser()
    settings = Settings(
        domain=_domain(str(raw.get("domain", "localhost:8000"))),
        data_dir=data_dir,
        database_url=_database_url(str(raw.get("database_url", "")), data_dir),
        use_http=_flag("use_http", raw.get("use_http", False)),
        allow_private_network=_flag("allow_private_network", raw.get("allow_private_network", False)),
        registrations=_choice("registrations", str(raw.get("registrations", "open")), REGISTRATION_MODES),
        host=str(raw.get("host", "127.0.0.1")),
        port=_integer("port", raw.get("port", 8000), 0, 65535),
        node_id=_integer("node_id", raw.get("node_id", 0), 0, 63),
        city=city,
    )
    return settings


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """A copy of settings with some fields changed (tests and the CLI use it)."""
    return replace(settings, **changes)


def _domain(value: str) -> str:
    domain = value.strip().lower()
    match = _DOMAIN.match(domain)
    if not match or (match.group("port") and not 0 < int(match.group("port")) < 65536):
        raise ConfigError(
            f"domain {value!r} is not a host name with an optional port (like moers.social or localhost:8001); "
            f"set --domain or {_ENV['domain']}"
        )
    return domain


def _database_url(value: str, data_dir: Path) -> str:
    if not value:
        return f"sqlite+aiosqlite:///{(data_dir / 'fedserver.db').resolve()}"
    scheme = urlsplit(value).scheme
    if scheme not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise ConfigError(
            f"database URL {value!r} must start with sqlite+aiosqlite:// or postgresql+asyncpg://; "
            f"set --database-url or {_ENV['database_url']}"
        )
    return value


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{_ENV[key]}={value!r} is not a yes/no value (use 1 or 0)")


def _integer(key: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} {value!r} is not a whole number (set {_ENV[key]})") from None
    if not low <= number <= high:
        raise ConfigError(f"{key} {number} is outside {low}..{high} (set {_ENV[key]})")
    return number


def _choice(key: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{key} {value!r} must be one of {', '.join(choices)} (set {_ENV[key]})")
    return value


def _city_value(key: str, value: Any) -> Any:
    if key in ("city.latitude", "city.longitude", "city.radius_km"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key.replace('city.', 'city ')} {value!r} is not a number (set {_ENV[key]})") from None
        limit = {"city.latitude": 90.0, "city.longitude": 180.0, "city.radius_km": 20000.0}[key]
        low = 0.0 if key == "city.radius_km" else -limit
        if not low <= number <= limit:
            raise ConfigError(f"{key.replace('city.', 'city ')} {number} is outside {low:g}..{limit:g} (set {_ENV[key]})")
        return number
    return str(value)
