"""Media: uploaded images, re-encoded without their metadata, with a preview and a blurhash.

An upload is decoded by Pillow and written anew, so EXIF (GPS position, camera serial), XMP, comments
and ICC profiles never reach the disk (DESIGN.md, privacy promises); the EXIF orientation is applied
first, so the picture still stands the right way up. Only JPEG, PNG, GIF and WebP are accepted; a
GIF keeps its first frame only and becomes a PNG (we make no videos). Files are named by a random
token under the media dir and removed together with their rows: unattached uploads after a day
(housekeeping), attached ones when their status is deleted, after that transaction commits.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import blurhash  # type: ignore[import-untyped]
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import ColumnElement, delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.scheduling import ScheduledStatusMedia

MAX_BYTES = 16 * 1024 * 1024  # 16 MiB, as Mastodon's IMAGE_LIMIT and our instance configuration say
MAX_PIXELS = 33_177_600  # 7680 x 4320, Mastodon's image_matrix_limit: bigger is a decompression bomb to us
MAX_SIDE = 1920
PREVIEW_SIDE = 640
MAX_DESCRIPTION = 1500  # Mastodon's MediaAttachment::MAX_DESCRIPTION_LENGTH
KEEP_UNATTACHED = timedelta(days=1)
# What Pillow may detect (by content, never by the name or the claimed type) -> what we write.
OUTPUT = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}
SUFFIX = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPE = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# The only file names we make (and so the only ones the /media route serves): two fan-out levels.
FILE_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}(?:-small)?\.(?:jpg|png|webp)$")
_REMOVE, _CREATED = "media_files_to_remove", "media_files_created"


@dataclass(frozen=True)
class Processed:
    """A re-encoded image and its preview, ready to be written."""

    data: bytes
    preview: bytes
    suffix: str
    width: int
    height: int
    blurhash: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPE[self.suffix]


def fit(width: int, height: int, side: int) -> tuple[int, int]:
    """The size of an image scaled to fit a square of `side` pixels, aspect kept, never enlarged."""
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def process(data: bytes) -> Processed:
    """Decode, orient, strip, shrink, preview and blurhash an image (CPU-bound); raises Invalid."""
    if len(data) > MAX_BYTES:
        raise Invalid("file", "ERR_TOO_LARGE", "the file is larger than 16 MiB")
    image, kind = _decode(data)
    image = _clean(image, to_jpeg=OUTPUT[kind] == "JPEG")
    image = _resized(image, MAX_SIDE)
    preview = _resized(image, PREVIEW_SIDE)
    fmt = OUTPUT[kind]
    return Processed(data=_encode(image, fmt), preview=_encode(preview, fmt), suffix=SUFFIX[fmt],
                     width=image.width, height=image.height, blurhash=_blurhash(preview))


def _decode(data: bytes) -> tuple[Image.Image, str]:
    """The first frame, decoded; the pixel count is checked from the header, before decoding."""
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(OUTPUT))
            kind = str(image.format)
            if image.width * image.height > MAX_PIXELS:
                raise Invalid("file", "ERR_TOO_LARGE", f"the image has more than {MAX_PIXELS} pixels")
            if kind == "JPEG":  # decode at a reduced scale when that still covers MAX_SIDE: much faster
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Invalid("file", "ERR_TOO_LARGE", f"the image has more than {MAX_PIXELS} pixels") from None
        except UnidentifiedImageError:
            raise Invalid("file", "ERR_UNSUPPORTED",
                          "unsupported file type: only JPEG, PNG, GIF and WebP images can be uploaded") from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error):  # what Pillow raises on broken files
            raise Invalid("file", "ERR_INVALID", "the image is damaged and could not be read") from None
    return image, kind


def _clean(image: Image.Image, *, to_jpeg: bool) -> Image.Image:
    """Upright, in sRGB, in a mode the output format takes, and with no metadata left at all."""
    try:
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, struct.error):  # a broken EXIF block: keep the pixels as they are
        pass
    icc = image.info.get("icc_profile")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGB" if to_jpeg or not has_alpha else "RGBA"
    if image.mode == "L" and not has_alpha:
        mode = "L"
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:  # a phone's Display P3 photo would look dull once its profile is gone: convert to sRGB
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                              outputMode="RGBA" if image.mode == "RGBA" else "RGB") or image
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    clean = image.convert(mode) if image.mode != mode else image.copy()
    clean.info = {}  # icc_profile, exif, xmp, comments, text chunks: the encoders read them from here
    return clean


def _resized(image: Image.Image, side: int) -> Image.Image:
    size = fit(image.width, image.height, side)
    if size == image.size:
        return image
    resized = image.resize(size, Image.Resampling.LANCZOS)
    resized.info = {}
    return resized


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85, "optimize": True}, "WEBP": {"quality": 85}, "PNG": {}}[fmt]
    image.save(out, fmt, **options)
    return out.getvalue()


def _blurhash(preview: Image.Image) -> str:
    """Mastodon's 4x4 components, from a 32-pixel copy (the pure-Python encoder costs per pixel)."""
    tiny = preview.convert("RGB").resize(fit(preview.width, preview.height, 32), Image.Resampling.BILINEAR)
    raw, width = tiny.tobytes(), tiny.width
    rows = [[tuple(raw[(y * width + x) * 3:(y * width + x) * 3 + 3]) for x in range(width)]
            for y in range(tiny.height)]
    return str(blurhash.encode(rows, 4, 4))


def parse_focus(value: str | None) -> tuple[float, float] | None:
    """Mastodon's focal point "x,y", each between -1.0 and 1.0; raises Invalid."""
    if value is None or not str(value).strip():
        return None
    try:
        x, y = (float(part) for part in str(value).split(","))
    except ValueError:
        raise Invalid("focus", "ERR_INVALID", 'focus must be two numbers "x,y" between -1.0 and 1.0') from None
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise Invalid("focus", "ERR_INVALID", 'focus must be two numbers "x,y" between -1.0 and 1.0')
    return x, y


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise Invalid("description", "ERR_TOO_LONG", f"a description has at most {MAX_DESCRIPTION} characters")
    return description


async def upload(session: AsyncSession, media_dir: Path, owner: Actor, data: bytes, *, description: str = "",
                 focus: str | None = None, now: datetime) -> MediaAttachment:
    """Store an uploaded image for a later status; raises Invalid (size, type, pixels, focus, description)."""
    _check_description(description)
    point = parse_focus(focus) or (0.0, 0.0)
    processed = await anyio.to_thread.run_sync(process, data)
    token = secrets.token_hex(16)
    file_path = f"{token[:2]}/{token[2:4]}/{token}.{processed.suffix}"
    preview_path = f"{token[:2]}/{token[2:4]}/{token}-small.{processed.suffix}"
    session.info.setdefault(_CREATED, []).extend([media_dir / file_path, media_dir / preview_path])
    await anyio.to_thread.run_sync(_write, media_dir, {file_path: processed.data, preview_path: processed.preview})
    item = MediaAttachment(
        owner_id=owner.id, status_id=None, kind="image", content_type=processed.content_type,
        file_path=file_path, preview_path=preview_path, description=description, blurhash=processed.blurhash,
        width=processed.width, height=processed.height, focus_x=point[0], focus_y=point[1], created_at=now)
    session.add(item)
    await session.flush()
    return item


def _write(media_dir: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = media_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)  # readers never see half a file


async def find_own(session: AsyncSession, owner: Actor, media_id: int, *, unattached: bool = False) -> MediaAttachment:
    """One of the owner's uploads (only the unattached ones if asked); NotFound for anyone else's."""
    query = select(MediaAttachment).where(MediaAttachment.id == media_id, MediaAttachment.owner_id == owner.id)
    if unattached:
        query = query.where(MediaAttachment.status_id.is_(None))
    item = (await session.scalars(query)).first()
    if item is None:
        raise NotFound("Record not found")
    return item


async def update(session: AsyncSession, item: MediaAttachment, *, description: str | None = None,
                 focus: str | None = None) -> MediaAttachment:
    """Change the description or focal point of an upload that is not attached yet."""
    if description is not None:
        item.description = _check_description(description)
    point = parse_focus(focus)
    if point is not None:
        item.focus_x, item.focus_y = point
    await session.flush()
    return item


async def delete_unattached(session: AsyncSession, item: MediaAttachment) -> None:
    """Delete an upload and its files; one attached to a status goes only with its status."""
    if item.status_id is not None:
        raise Invalid("id", "ERR_TAKEN", "Media attachment is currently used by a status")
    if await session.scalar(select(_held_for_later(item.id))):
        raise Invalid("id", "ERR_TAKEN", "Media attachment is currently used by a scheduled status")
    await session.execute(delete(MediaAttachment).where(MediaAttachment.id == item.id))
    _remove_after_commit(session, [item])


async def forget_status_media(session: AsyncSession, status_id: int) -> None:
    """Delete a status's local media rows now and their files once the transaction commits."""
    items = (await session.scalars(select(MediaAttachment).where(
        MediaAttachment.status_id == status_id, MediaAttachment.file_path.is_not(None)))).all()
    if items:
        await session.execute(delete(MediaAttachment).where(MediaAttachment.id.in_([i.id for i in items])))
        _remove_after_commit(session, list(items))


async def forget_actor_media(session: AsyncSession, actor_id: int) -> None:
    """Delete every local upload of an actor (account deletion); the files go once the transaction commits."""
    items = (await session.scalars(select(MediaAttachment).where(
        MediaAttachment.owner_id == actor_id, MediaAttachment.file_path.is_not(None)))).all()
    if items:
        await session.execute(delete(MediaAttachment).where(MediaAttachment.id.in_([i.id for i in items])))
        _remove_after_commit(session, list(items))


async def remove_unattached(session: AsyncSession, media_dir: Path, older_than: datetime) -> int:
    """Delete uploads never attached to a status since before `older_than`, rows and files; how many.
    Uploads a scheduled status holds wait for it, however long (local/scheduled_statuses.py)."""
    items = (await session.scalars(select(MediaAttachment).where(
        MediaAttachment.status_id.is_(None), MediaAttachment.created_at < older_than,
        ~_held_for_later(MediaAttachment.id)))).all()
    if not items:
        return 0
    await session.execute(delete(MediaAttachment).where(MediaAttachment.id.in_([i.id for i in items])))
    await session.flush()
    # Unlinked right away: were the commit to fail, the rows of day-old uploads would point at nothing.
    _unlink([media_dir / path for item in items for path in _paths(item)])
    return len(items)


def _held_for_later(media_id: Any) -> ColumnElement[bool]:
    return select(ScheduledStatusMedia.media_id).where(ScheduledStatusMedia.media_id == media_id).exists()


def _paths(item: MediaAttachment) -> list[str]:
    return [path for path in (item.file_path, item.preview_path) if path]


def _remove_after_commit(session: AsyncSession, items: list[MediaAttachment]) -> None:
    session.info.setdefault(_REMOVE, []).extend(path for item in items for path in _paths(item))


def remove_files_after_commit(sessions: async_sessionmaker[AsyncSession], media_dir: Path) -> None:
    """Make every session of this factory delete files of deleted media when it commits, and
    delete files of new uploads when it rolls back (set up once by the composition root)."""
    session_class: type[Session] = sessions.kw["sync_session_class"]  # one class per city (db.session_factory)

    def committed(session: Session) -> None:
        session.info.pop(_CREATED, None)
        _unlink([media_dir / path for path in session.info.pop(_REMOVE, [])])

    def rolled_back(session: Session) -> None:
        session.info.pop(_REMOVE, None)  # the rows are back: so must the files stay
        _unlink(session.info.pop(_CREATED, []))

    event.listen(session_class, "after_commit", committed)
    event.listen(session_class, "after_rollback", rolled_back)


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
