"""The message catalogues' upkeep: which msgids each part's templates and modules use, and `python -m
webui.catalogue` to add new ones to its .po files (German translations are then written by hand).

Two parts have catalogues: the web UI, and the OAuth consent page that fedserver.api serves in the web
UI's look (api may not import webui, so its messages are a catalogue of their own)."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from fedserver.i18n import LANGUAGES
from webui import i18n

ROOT = Path(__file__).parent
METHODS = [("**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}


class Part(NamedTuple):
    name: str
    sources: Path      # the templates and modules whose messages are extracted
    catalogues: Path   # <language>/LC_MESSAGES/messages.po under it


WEBUI = Part("fedserver webui", ROOT, i18n.CATALOGUES)
CONSENT = Part("fedserver consent page", ROOT.parent / "fedserver" / "api" / "oauth",
               ROOT.parent / "fedserver" / "api" / "oauth" / "translations")
PARTS = (WEBUI, CONSENT)


def used_messages(part: Part = WEBUI) -> set[str]:
    """Every msgid the part passes to gettext (or marks with N_)."""
    found = set()
    # Babel skips folders starting with "_" by default: templates/_partials is one of ours.
    walked = extract_from_dir(part.sources, METHODS, options_map=OPTIONS,
                              directory_filter=lambda path: not Path(path).name.startswith((".", "__")))
    for _file, _line, message, _comments, _context in walked:
        if isinstance(message, str) and message:
            found.add(message)
    return found


def _path(part: Part, language: str) -> Path:
    return part.catalogues / language / "LC_MESSAGES" / "messages.po"


def load(language: str, part: Part = WEBUI) -> Catalog:
    with open(_path(part, language), "rb") as handle:
        return read_po(handle, locale=language)


def update() -> None:
    """Add missing msgids to every catalogue (English: the msgid itself; German: empty, to be translated)."""
    for part in PARTS:
        used = used_messages(part)
        for language in LANGUAGES:
            path = _path(part, language)
            catalog = load(language, part) if path.exists() else Catalog(locale=language, project=part.name)
            for message in sorted(used):
                if message not in catalog:
                    catalog.add(message, message if language == "en" else "")
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                write_po(handle, catalog, sort_output=True, width=120)


if __name__ == "__main__":
    update()
