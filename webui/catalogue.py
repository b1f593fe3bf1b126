"""The message catalogues' upkeep: which msgids the templates and page modules use, and `python -m
webui.catalogue` to add new ones to both .po files (German translations are then written by hand)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from webui import i18n

ROOT = Path(__file__).parent
METHODS = [("**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}


def used_messages() -> set[str]:
    """Every msgid the web UI passes to gettext (or marks with N_)."""
    found = set()
    # Babel skips folders starting with "_" by default: templates/_partials is one of ours.
    walked = extract_from_dir(ROOT, METHODS, options_map=OPTIONS,
                              directory_filter=lambda path: not Path(path).name.startswith((".", "__")))
    for _file, _line, message, _comments, _context in walked:
        if isinstance(message, str) and message:
            found.add(message)
    return found


def load(language: str) -> Catalog:
    with open(i18n.CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def update() -> None:
    """Add missing msgids to every catalogue (English: the msgid itself; German: empty, to be translated)."""
    used = used_messages()
    for language in i18n.LANGUAGES:
        path = i18n.CATALOGUES / language / "LC_MESSAGES" / "messages.po"
        catalog = load(language) if path.exists() else Catalog(locale=language, project="fedserver webui")
        for message in sorted(used):
            if message not in catalog:
                catalog.add(message, message if language == "en" else "")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            write_po(handle, catalog, sort_output=True, width=120)


if __name__ == "__main__":
    update()
