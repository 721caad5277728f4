"""Finding the fonts certificates need (Debian packages, installed by `make fonts`).

Names of alumni are printed as they are written: Latin with Vietnamese marks (DejaVu Sans,
fonts-dejavu-core), Thai (TLWG fonts, fonts-thai-tlwg) and Japanese/Chinese (Noto Sans CJK,
fonts-noto-cjk). Each character is drawn with the first of these fonts that has it.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local" / "share" / "fonts",
    Path.home() / ".fonts",
)
PACKAGES = "fonts-dejavu-core fonts-thai-tlwg fonts-noto-cjk"


@dataclass(frozen=True)
class FontFace:
    family: str  # name inside the PDF
    regular: Path
    bold: Path
    index: int = 0  # font number inside a .ttc collection (0 = the Japanese face)

    @property
    def is_collection(self) -> bool:
        return self.regular.suffix.lower() == ".ttc"


# In order of preference; the first family is the default for anything nobody covers.
WANTED: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("latin", (("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),)),
    ("thai", (("Garuda.ttf", "Garuda-Bold.ttf"), ("Loma.ttf", "Loma-Bold.ttf"),
              ("Norasi.ttf", "Norasi-Bold.ttf"))),
    ("cjk", (("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"),)),
)


class FontsMissing(RuntimeError):
    """Raised with a message that says what to install."""


def _index(dirs: tuple[Path, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in dirs:
        if not root.is_dir():
            continue
        for folder, _subdirs, files in os.walk(root):
            for name in files:
                found.setdefault(name, Path(folder) / name)
    return found


_FOUND: list[FontFace] = []


def certificate_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> list[FontFace]:
    """The font faces, looked up once per process; raises FontsMissing naming the packages."""
    if _FOUND and dirs == FONT_DIRS:
        return list(_FOUND)
    files = _index(dirs)
    faces, missing = [], []
    for family, candidates in WANTED:
        for regular, bold in candidates:
            if regular in files:
                faces.append(FontFace(family, files[regular], files.get(bold, files[regular])))
                break
        else:
            missing.append(candidates[0][0])
    if missing:
        raise FontsMissing(
            "Certificates cannot be made: font file(s) " + ", ".join(missing) + " not found "
            f"under {', '.join(str(d) for d in dirs)}. Install the Debian packages {PACKAGES} "
            "(`make fonts`).")
    if dirs == FONT_DIRS:
        _FOUND[:] = faces
    return faces


@cache
def coverage(path: Path, index: int = 0) -> frozenset[int]:
    """Code points a font draws (its best cmap)."""
    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def runs(text: str, faces: list[FontFace]) -> list[tuple[FontFace, str]]:
    """Split text into pieces each drawn by one face. Letters and digits take the first
    face that has them; spaces, punctuation and combining marks stay with the piece before
    them (when it has them), so shaping sees whole words."""
    pieces: list[tuple[FontFace, str]] = []
    for char in unicodedata.normalize("NFC", text):
        code = ord(char)
        joins = not char.isalnum() or unicodedata.category(char).startswith("M")
        if pieces and joins and (char.isspace() or code in coverage(
                pieces[-1][0].regular, pieces[-1][0].index)):
            face = pieces[-1][0]
        else:
            face = next((f for f in faces if code in coverage(f.regular, f.index)), faces[0])
        if pieces and pieces[-1][0] is face:
            pieces[-1] = (face, pieces[-1][1] + char)
        else:
            pieces.append((face, char))
    return pieces
