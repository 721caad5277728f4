"""One cell of an alumni spreadsheet: turning what old sheets hold into clean values.

Each parser raises ValueError with a short code; `message` turns it into the sentence staff
read in the preview, naming the value that was wrong.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from openpyxl.utils.datetime import from_excel

from portal.alumni.models import Alumnus
from portal.alumni.services import FIRST_YEAR, specialty_code

# --- values --------------------------------------------------------------------------------

def as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return " ".join(str(value).split())


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y.%m.%d",
                 "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y", "%Y年%m月%d日")


def parse_date(value: object, today: date) -> date:
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:  # a date cell typed as a number
            converted = from_excel(value)
        except (ValueError, OverflowError, TypeError) as exc:
            raise ValueError("number") from exc
        value = converted.date() if isinstance(converted, datetime) else converted
    if not isinstance(value, date):
        text = as_text(value).replace(",", "")
        text = re.sub(r"[T ]00:00(:00)?$", "", text)  # Excel's CSV export adds a time
        for fmt in _DATE_FORMATS:
            try:
                value = datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date only
                break
            except ValueError:
                continue
        else:
            raise ValueError("format")
    if not date(1900, 1, 1) <= value <= today:
        raise ValueError("range")
    return value


def parse_year(value: object, this_year: int) -> int:
    text = as_text(value)
    match = re.fullmatch(r"(?i)(?:fy\s*)?(\d{4})", text)
    if not match:
        raise ValueError("format")
    year = int(match.group(1))
    if not FIRST_YEAR <= year <= this_year:
        raise ValueError("range")
    return year


_COUNTRY_EXTRA = {
    "viet nam": "VN", "lao pdr": "LA", "lao": "LA", "lao people's democratic republic": "LA",
    "burma": "MM", "east timor": "TL", "timor leste": "TL", "brunei darussalam": "BN",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR", "uk": "GB",
    "usa": "US", "united states of america": "US", "tha": "TH", "vnm": "VN", "mys": "MY",
    "idn": "ID", "phl": "PH", "mmr": "MM", "khm": "KH", "sgp": "SG",
    "brn": "BN", "tls": "TL", "chn": "CN", "ind": "IN", "bgd": "BD", "npl": "NP",
    "lka": "LK", "mng": "MN", "pak": "PK", "jpn": "JP", "kor": "KR",
}
_COUNTRIES: dict[str, str] | None = None


def _country_index() -> dict[str, str]:
    global _COUNTRIES
    if _COUNTRIES is None:
        index: dict[str, str] = {}
        for lang in ("en", "ja"):
            for code, name in Locale(lang).territories.items():
                if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN"}:
                    index[code.casefold()] = code
                    index[" ".join(name.casefold().replace("-", " ").split())] = code
                    index[re.sub(r"\s*\(.*\)", "", name.casefold())] = code
        index.update(_COUNTRY_EXTRA)
        _COUNTRIES = index
    return _COUNTRIES


def parse_country(value: object) -> str:
    key = " ".join(as_text(value).casefold().replace("-", " ").split())
    code = _country_index().get(key)
    if code is None:
        raise ValueError("unknown")
    return code


def parse_email(value: object) -> str:
    try:
        return validate_email(as_text(value), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError("email") from exc


def _max_length(target: str) -> int | None:
    return getattr(Alumnus.__table__.c[target].type, "length", None)


def value(target: str, raw: object, today: date) -> object:
    if target == "date_of_birth":
        return parse_date(raw, today)
    if target == "cycle_year":
        return parse_year(raw, today.year)
    if target == "country":
        return parse_country(raw)
    if target == "email":
        return parse_email(raw)
    text = specialty_code(as_text(raw)) if target == "specialty" else as_text(raw)
    limit = _max_length(target)
    if limit and len(text) > limit:
        raise ValueError(f"length:{limit}")
    return text


def message(target: str, code: str, raw: object, today: date) -> object:
    shown = as_text(raw)[:60]
    if code.startswith("length:"):
        return _l("Too long: at most %(n)d characters.", n=int(code.split(":")[1]))
    if target == "date_of_birth":
        if code == "range":
            return _l("Date of birth %(value)s is not plausible.", value=shown)
        return _l("Bad date %(value)s: write it as YYYY-MM-DD or DD/MM/YYYY.", value=shown)
    if target == "cycle_year":
        if code == "range":
            return _l("Year %(value)s is outside %(first)d..%(last)d.", value=shown,
                      first=FIRST_YEAR, last=today.year)
        return _l("Bad year %(value)s: write the four digits, e.g. 2019.", value=shown)
    if target == "country":
        return _l("Unknown country %(value)s: use a country name or ISO code such as TH.",
                  value=shown)
    if target == "email":
        return _l("Bad e-mail address %(value)s.", value=shown)
    return _l("Bad value %(value)s.", value=shown)
