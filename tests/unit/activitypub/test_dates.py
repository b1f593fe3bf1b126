"""dates: xsd:dateTime in every form peers send, always read as UTC; written like Mastodon."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fedserver.activitypub import dates
from fedserver.activitypub.errors import MalformedObject

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T14:28:40Z", datetime(2026, 11, 25, 14, 28, 40, tzinfo=UTC)),
        ("2021-02-26T12:35:34.292626Z", datetime(2021, 2, 26, 12, 35, 34, 292626, tzinfo=UTC)),
        ("2023-08-14T09:21:33.227Z", datetime(2023, 8, 14, 9, 21, 33, 227000, tzinfo=UTC)),
        ("2021-02-26T12:35:34.123456789Z", datetime(2021, 2, 26, 12, 35, 34, 123456, tzinfo=UTC)),
        ("2021-10-20T12:40:37+02:00", datetime(2021, 10, 20, 10, 40, 37, tzinfo=UTC)),
        ("2021-10-20T12:40:37-0130", datetime(2021, 10, 20, 14, 10, 37, tzinfo=UTC)),
        ("2021-10-20T12:40:37", datetime(2021, 10, 20, 12, 40, 37, tzinfo=UTC)),
    ],
)
def test_parse_reads_xsd_datetime_as_utc(text: str, expected: datetime) -> None:
    parsed = dates.parse({"published": text}, "published")
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


def test_parse_missing_optional_is_none() -> None:
    assert dates.parse({}, "updated") is None
    assert dates.parse({"updated": None}, "updated") is None


def test_parse_missing_required_names_the_key() -> None:
    with pytest.raises(MalformedObject, match="^published: missing$"):
        dates.parse({}, "published", required=True)


@pytest.mark.parametrize("value", ["yesterday", "2021-02-26", "2021-13-01T00:00:00Z", "", 1614342934])
def test_parse_garbled_value_names_the_key(value: object) -> None:
    with pytest.raises(MalformedObject) as excinfo:
        dates.parse({"deleted": value}, "deleted")
    assert excinfo.value.field == "deleted"


def test_format_writes_seconds_and_z() -> None:
    moment = datetime(2026, 11, 25, 15, 28, 40, 999999, tzinfo=timezone(timedelta(hours=1)))
    assert dates.format(moment) == "2026-11-25T14:28:40Z"


def test_format_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        dates.format(datetime(2026, 11, 25, 14, 28, 40))


def test_format_then_parse_round_trips_to_the_second() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert dates.parse({"t": dates.format(moment)}, "t") == moment
