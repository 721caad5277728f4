"""The Japanese catalog covers every message of the code and templates, correctly."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _catalog():  # noqa: ANN202
    with open(ROOT / "translations/ja/LC_MESSAGES/messages.po", "rb") as f:
        return read_po(f)


def test_every_japanese_message_is_translated_with_the_same_placeholders() -> None:
    problems = []
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in strings):
            problems.append(f"placeholders differ: {ids[0]!r}")
    assert not problems, "\n".join(problems)


def test_no_message_of_the_code_is_missing_from_the_catalog() -> None:
    """A string added to a template or module without `make extract` shows in English."""
    catalog = _catalog()
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2"),
                  ("templates/**.txt", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
                "_l": None, "N_": None}
    missing = set()
    for _file, _line, msg, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, keywords=keywords,
    ):
        msgid = msg[0] if isinstance(msg, tuple) else msg
        if msgid and catalog.get(msgid) is None:
            missing.add(msgid)
    assert not missing, "run `make extract` and translate:\n" + "\n".join(sorted(missing))
