"""MediaAttachment entity (docs.joinmastodon.org/entities/MediaAttachment)."""
from __future__ import annotations

from typing import Any

from fedserver.local.media import PREVIEW_SIDE, fit
from fedserver.local.models.media import MediaAttachment
from fedserver.local.urls import LocalUrls


def render_media(urls: LocalUrls, item: MediaAttachment) -> dict[str, Any]:
    """Local files are served from /media; remote ones keep their own URLs (nothing is proxied yet)."""
    url = urls.media(item.file_path) if item.file_path else item.remote_url
    preview = urls.media(item.preview_path) if item.preview_path else url
    meta: dict[str, Any] = {"focus": {"x": item.focus_x, "y": item.focus_y}}
    if item.width and item.height:
        meta["original"] = {"width": item.width, "height": item.height, "size": f"{item.width}x{item.height}",
                            "aspect": round(item.width / item.height, 6)}
        if item.preview_path:  # our previews are the original fitted into PREVIEW_SIDE (local.media.fit)
            small = fit(item.width, item.height, PREVIEW_SIDE)
            meta["small"] = {"width": small[0], "height": small[1], "size": f"{small[0]}x{small[1]}",
                             "aspect": round(small[0] / small[1], 6)}
    return {
        "id": str(item.id), "type": item.kind if item.kind in ("image", "gifv", "video", "audio") else "unknown",
        "url": url, "preview_url": preview, "remote_url": item.remote_url if not item.file_path else None,
        "preview_remote_url": None, "text_url": None, "meta": meta,
        "description": item.description or None, "blurhash": item.blurhash,
    }
