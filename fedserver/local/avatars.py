"""Profile pictures: avatar and header images re-encoded with Pillow, so no metadata leaves the city.

Re-encoding drops EXIF (GPS position, camera serial) and every other chunk the upload carried;
the orientation EXIF asked for is applied first, so the picture still stands upright. Sizes are
Mastodon's: avatars 400x400, headers 1500x500 (app/models/concerns/account/avatar.rb, header.rb),
cropped to that shape around the centre, never enlarged.
"""
from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from fedserver.local.errors import Invalid
from fedserver.local.media import FILE_NAME
from fedserver.local.urls import LocalUrls


@dataclass(frozen=True)
class Kind:
    field: str  # the API parameter, for error details
    width: int
    height: int


AVATAR = Kind("avatar", 400, 400)
HEADER = Kind("header", 1500, 500)
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 33_177_600  # the image_matrix_limit the instance advertises; checked before decoding


def store(media_dir: Path, data: bytes, kind: Kind) -> str:
    """Re-encode an uploaded picture into the media dir; returns its path relative to it; raises Invalid."""
    image = _decoded(data, kind)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    buffer = io.BytesIO()
    try:
        image = _cropped(ImageOps.exif_transpose(image), kind).convert("RGBA" if has_alpha else "RGB")
        # No exif= and no pnginfo=: what is written is pixels only.
        if has_alpha:
            image.save(buffer, format="PNG", optimize=True)
        else:
            image.save(buffer, format="JPEG", quality=85, optimize=True)
    except (OSError, ValueError):
        raise Invalid(kind.field, "ERR_INVALID", f"the {kind.field} is not an image we can read") from None
    token = secrets.token_hex(16)  # named like every upload, so that the /media route serves it
    name = f"{token[:2]}/{token[2:4]}/{token}.{'png' if has_alpha else 'jpg'}"
    target = media_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buffer.getvalue())
    return name


def _decoded(data: bytes, kind: Kind) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise Invalid(kind.field, "ERR_TOO_LARGE", f"the {kind.field} is larger than {MAX_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:  # read from the header, before any decoding
                raise Invalid(kind.field, "ERR_TOO_LARGE", f"the {kind.field} has too many pixels")
            if image.format not in ("JPEG", "PNG", "GIF", "WEBP"):
                raise Invalid(kind.field, "ERR_INVALID", f"the {kind.field} must be a JPEG, PNG, GIF or WebP image")
            image.load()  # an animated GIF or WebP keeps its first frame
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise Invalid(kind.field, "ERR_INVALID", f"the {kind.field} is not an image we can read") from None
    return image


def _cropped(image: Image.Image, kind: Kind) -> Image.Image:
    """Cut to the kind's shape around the centre, then shrink to its size if larger."""
    ratio = kind.width / kind.height
    width, height = image.size
    if width / height > ratio:
        keep = max(1, round(height * ratio))
        image = image.crop(((width - keep) // 2, 0, (width - keep) // 2 + keep, height))
    elif width / height < ratio:
        keep = max(1, round(width / ratio))
        image = image.crop((0, (height - keep) // 2, width, (height - keep) // 2 + keep))
    if image.width > kind.width:
        image = image.resize((kind.width, kind.height), Image.Resampling.LANCZOS)
    return image


def path_of(urls: LocalUrls, url: str | None) -> str | None:
    """The media-dir path behind one of our own picture URLs; None for anything else."""
    prefix = urls.media("")
    if not url or not url.startswith(prefix):
        return None
    relative = url[len(prefix):]
    return relative if FILE_NAME.fullmatch(relative) else None


def remove(media_dir: Path, relative_paths: list[str]) -> None:
    """Delete files from the media dir (a file already gone is fine)."""
    root = media_dir.resolve()
    for relative in relative_paths:
        target = (media_dir / relative).resolve()
        if target.is_relative_to(root):  # never outside the media dir, whatever a row says
            target.unlink(missing_ok=True)
