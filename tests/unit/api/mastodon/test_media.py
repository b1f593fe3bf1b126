"""Media endpoints: upload (v1, v2), show, update, delete; metadata stripped; files removed with their rows."""
from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms
from PIL.ExifTags import IFD

from fedserver import housekeeping
from fedserver.db import utcnow
from fedserver.local import accounts, attachments, media, statuses
from fedserver.local.models.media import MediaAttachment
from tests.api_clients import bearer, token_for
from tests.cities import City

GPS_LATITUDE, GPS_LATITUDE_REF, ORIENTATION, CAMERA_SERIAL = 2, 1, 0x0112, 0xA431


def photo_with_gps(size: tuple[int, int] = (800, 600)) -> bytes:
    """A JPEG as a phone writes it: EXIF with a GPS position, a serial number, orientation 6, an ICC profile."""
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((250, 200, 0), (0, 0, size[0] // 2, size[1] // 2))
    exif = image.getexif()
    exif[ORIENTATION] = 6  # the camera was turned: viewers rotate by 90 degrees
    exif.get_ifd(IFD.Exif)[CAMERA_SERIAL] = "SERIAL-4711"
    exif.get_ifd(IFD.GPSInfo).update({GPS_LATITUDE_REF: "N", GPS_LATITUDE: (51.0, 27.0, 6.0)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, icc_profile=icc, comment=b"taken at home")
    return out.getvalue()


def png(size: tuple[int, int] = (300, 200), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 10, 128) if mode == "RGBA" else (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims enormous dimensions: a decompression bomb's calling card."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


async def upload(city: City, token: str, data: bytes, name: str = "photo.jpg", version: str = "v2",
                 **fields: str) -> Any:
    return await city.client.post(f"/api/{version}/media", headers=bearer(token),
                                  files={"file": (name, data, "application/octet-stream")}, data=fields)


def files_of(city: City, entity: dict[str, Any]) -> list[Path]:
    prefix = f"{city.settings.base_url}/media/"
    return [city.settings.media_dir / entity[key].removeprefix(prefix) for key in ("url", "preview_url")]


async def test_upload_strips_exif_gps_and_applies_the_orientation(moers: City) -> None:
    await moers.create_account("alice")
    token = await token_for(moers, "alice")
    response = await upload(moers, token, photo_with_gps((800, 600)), description="Der Marktplatz")
    assert response.status_code == 200, response.text
    entity = response.json()
    assert entity["type"] == "image" and isinstance(entity["id"], str)
    assert entity["description"] == "Der Marktplatz" and entity["remote_url"] is None
    assert isinstance(entity["blurhash"], str) and len(entity["blurhash"]) == 4 + 2 * 16
    assert entity["meta"]["original"] == {"width": 600, "height": 800, "size": "600x800", "aspect": 0.75}
    assert entity["meta"]["small"]["height"] == 640 and entity["meta"]["focus"] == {"x": 0.0, "y": 0.0}
    served = await moers.client.get(entity["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(served.content))
    assert stored.size == (600, 800)  # turned upright, since the orientation tag is gone with the rest
    assert not stored.getexif() and "icc_profile" not in stored.info and "comment" not in stored.info
    for secret in (b"Exif", b"SERIAL-4711", b"taken at home", b"acsp"):  # acsp: an ICC profile's signature
        assert secret not in served.content
    preview = await moers.client.get(entity["preview_url"])
    assert Image.open(io.BytesIO(preview.content)).size == (480, 640)


async def test_large_images_are_shrunk_to_1920_pixels(moers: City) -> None:
    await moers.create_account("alice")
    entity = (await upload(moers, await token_for(moers, "alice"), png((3000, 1500), "RGB"), "wide.png")).json()
    assert entity["meta"]["original"]["size"] == "1920x960" and entity["meta"]["small"]["size"] == "640x320"
    assert entity["url"].endswith(".png")


async def test_a_gif_keeps_its_first_frame_as_a_png(moers: City) -> None:
    await moers.create_account("alice")
    frames = [Image.new("P", (40, 30), colour) for colour in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    entity = (await upload(moers, await token_for(moers, "alice"), out.getvalue(), "party.gif", "v1")).json()
    assert entity["type"] == "image" and entity["url"].endswith(".png")
    served = await moers.client.get(entity["url"])
    assert served.headers["content-type"] == "image/png" and Image.open(io.BytesIO(served.content)).size == (40, 30)


@pytest.mark.parametrize(("data", "message"), [
    (b"%PDF-1.7 not an image at all", "unsupported"),
    (photo_with_gps()[:3000], "damaged"),            # cut off in the middle of the pixels
    (png_header_only(8000, 5000), "pixels"),          # above our 33 megapixels, below Pillow's own warning
    (png_header_only(20000, 20000), "pixels"),        # Pillow's DecompressionBombError
])
async def test_bad_files_are_refused_with_422(moers: City, data: bytes, message: str) -> None:
    await moers.create_account("alice")
    response = await upload(moers, await token_for(moers, "alice"), data, "x.png")
    assert response.status_code == 422 and message in response.json()["error"]
    assert not list(moers.settings.media_dir.rglob("*.*"))


async def test_more_than_16_mib_is_refused(moers: City) -> None:
    await moers.create_account("alice")
    response = await upload(moers, await token_for(moers, "alice"), b"\xff\xd8" + b"\0" * media.MAX_BYTES, "big.jpg")
    assert response.status_code == 422 and "16 MiB" in response.json()["error"]


async def test_upload_needs_a_file_a_user_and_the_media_scope(moers: City) -> None:
    await moers.create_account("alice")
    token = await token_for(moers, "alice")
    missing = await moers.client.post("/api/v2/media", headers=bearer(token), data={"description": "x"})
    assert missing.status_code == 422 and missing.json()["details"]["file"][0]["error"] == "ERR_BLANK"
    anonymous = await moers.client.post("/api/v2/media", files={"file": ("a.png", png(), "image/png")})
    assert anonymous.status_code == 401
    read_only = await upload(moers, await token_for(moers, "alice", "read"), png(), "a.png")
    assert read_only.status_code == 403
    granular = await upload(moers, await token_for(moers, "alice", "write:media"), png(), "a.png")
    assert granular.status_code == 200


async def test_show_and_update_only_for_the_owner(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    alice, bob = await token_for(moers, "alice"), await token_for(moers, "bob")
    entity = (await upload(moers, alice, png(), "a.png", "v1", focus="0.5,-0.25")).json()
    assert entity["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    path = f"/api/v1/media/{entity['id']}"
    assert (await moers.client.get(path, headers=bearer(alice))).json()["id"] == entity["id"]
    assert (await moers.client.get(path, headers=bearer(bob))).status_code == 404
    assert (await moers.client.put(path, headers=bearer(bob), data={"description": "mine"})).status_code == 404
    updated = await moers.client.put(path, headers=bearer(alice), json={"description": "Ein Baum", "focus": "0,1"})
    assert updated.status_code == 200
    assert updated.json()["description"] == "Ein Baum" and updated.json()["meta"]["focus"] == {"x": 0.0, "y": 1.0}
    for bad in ({"focus": "2,0"}, {"focus": "left"}, {"description": "x" * 1501}):
        assert (await moers.client.put(path, headers=bearer(alice), data=bad)).status_code == 422
    assert (await moers.client.get("/api/v1/media/12345", headers=bearer(alice))).status_code == 404
    assert (await moers.client.get("/api/v1/media/nope", headers=bearer(alice))).status_code == 404


async def _attach(city: City, username: str, media_id: str, visibility: str = "public") -> Any:
    status = await city.post(username, "Mit Bild", visibility=visibility)
    async with city.site.sessions() as session, session.begin():
        account = await accounts.find_by_username(session, username)
        await attachments.attach(session, status, await attachments.claim(session, account.actor, [int(media_id)]))
    return status


async def test_attached_media_cannot_be_changed_or_deleted_alone(moers: City) -> None:
    await moers.create_account("alice")
    token = await token_for(moers, "alice")
    entity = (await upload(moers, token, png(), "a.png")).json()
    await _attach(moers, "alice", entity["id"])
    path = f"/api/v1/media/{entity['id']}"
    assert (await moers.client.get(path, headers=bearer(token))).status_code == 404
    assert (await moers.client.put(path, headers=bearer(token), data={"description": "x"})).status_code == 404
    refused = await moers.client.delete(path, headers=bearer(token))
    assert refused.status_code == 422 and refused.json()["error"] == "Media attachment is currently used by a status"
    assert all(path.is_file() for path in files_of(moers, entity))


async def test_deleting_an_upload_removes_its_files(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    token = await token_for(moers, "alice")
    entity = (await upload(moers, token, png(), "a.png")).json()
    files = files_of(moers, entity)
    assert all(path.is_file() for path in files)
    path = f"/api/v1/media/{entity['id']}"
    assert (await moers.client.delete(path, headers=bearer(await token_for(moers, "bob")))).status_code == 404
    response = await moers.client.delete(path, headers=bearer(token))
    assert response.status_code == 200 and response.json() == {}
    assert not any(path.exists() for path in files)
    assert (await moers.client.get(entity["url"])).status_code == 404


async def test_deleting_a_status_removes_its_media_files_after_the_commit(moers: City) -> None:
    await moers.create_account("alice")
    entity = (await upload(moers, await token_for(moers, "alice"), photo_with_gps())).json()
    status = await _attach(moers, "alice", entity["id"])
    files = files_of(moers, entity)
    async with moers.site.sessions() as session, session.begin():
        account = await accounts.find_by_username(session, "alice")
        await statuses.delete(session, moers.site.urls, status, account.actor, now=utcnow())
        assert all(path.is_file() for path in files)  # still there: the transaction could yet roll back
    assert not any(path.exists() for path in files)
    async with moers.site.sessions() as session:
        assert await session.get(MediaAttachment, int(entity["id"])) is None


async def test_a_rolled_back_upload_leaves_no_files(moers: City) -> None:
    await moers.create_account("alice")
    with pytest.raises(RuntimeError):
        async with moers.site.sessions() as session, session.begin():
            account = await accounts.find_by_username(session, "alice")
            await media.upload(session, moers.settings.media_dir, account.actor, png(), now=utcnow())
            assert list(moers.settings.media_dir.rglob("*.png"))
            raise RuntimeError("the request failed after the upload")
    assert not list(moers.settings.media_dir.rglob("*.png"))


async def test_housekeeping_removes_uploads_left_unattached_for_a_day(moers: City) -> None:
    await moers.create_account("alice")
    token = await token_for(moers, "alice")
    left, used = [(await upload(moers, token, png(), "a.png")).json() for _ in range(2)]
    await _attach(moers, "alice", used["id"])
    now = utcnow()
    await housekeeping.tidy(moers.site.sessions, since=now, now=now, media_dir=moers.settings.media_dir)
    assert all(path.is_file() for path in files_of(moers, left))  # not a day old yet
    later = now + timedelta(days=1, minutes=1)
    await housekeeping.tidy(moers.site.sessions, since=later, now=later, media_dir=moers.settings.media_dir)
    assert not any(path.exists() for path in files_of(moers, left))
    assert all(path.is_file() for path in files_of(moers, used))
    async with moers.site.sessions() as session:
        assert await session.get(MediaAttachment, int(left["id"])) is None


@pytest.mark.parametrize("path", [
    "/media/../fedserver.db", "/media/..%2f..%2fsecret_key", "/media/ab/cd/../../secret_key",
    "/media/%2e%2e/secret_key", "/media//etc/passwd", "/media/00/00/" + "0" * 32 + ".png", "/media/",
])
async def test_media_route_serves_nothing_but_our_own_files(moers: City, path: str) -> None:
    (moers.settings.data_dir / "secret_key").write_text("not for you")
    response = await moers.client.get(path)
    assert response.status_code == 404 and b"not for you" not in response.content
