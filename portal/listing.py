"""Lists: one paging helper, one filter-object convention, bounded parsing of arguments.

Every list page (intake, alumni, people, audit log, outbox, events, ranking) works the same
way:

- a frozen dataclass subclassing `ListFilters` holds what the list shows; it is built by
  `from_args(request.args)` (unknown or out-of-range values fall back to the default, so
  a stale bookmark or a tampered link still opens) and turned back into link arguments by
  `args(**changes)`, which leaves defaults out so URLs stay short;
- the service builds the query from the filters (routes never build queries) and pages it
  with `page_of(query, filters.page, filters.per_page)`;
- the template reads a `Page`: `items`, `page`, `pages`, `has_more`, `first`, `last`.

Numbers and dates typed into URLs and forms go through `parse_int` and `parse_date`,
which never raise and keep values inside what both databases store (PostgreSQL's integer
overflows at 2^31; dates before 1900 or after 2100 mean a typo): a list opens with its
default instead. Where a wrong value must be said, `int_param` and `date_param` read one
named parameter and refuse with 400 and a message that names it (`BadParameter`). Path
integers are bounded by the URL converter (portal.web.IdConverter).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, ClassVar, Generic, Self, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from portal.errors import PortalError
from portal.extensions import db

T = TypeVar("T")

MAX_ID = 2**31 - 1  # the largest id PostgreSQL's INTEGER holds
MAX_PAGE = 100_000
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)


def parse_int(value: object, *, default: int | None = None, low: int = 1,
              high: int = MAX_ID) -> int | None:
    """An integer within [low, high] from text, else `default` (never raises)."""
    text = str(value if value is not None else "").strip()
    if not text or len(text) > 12 or not text.lstrip("-").isdigit():
        return default
    number = int(text)
    return number if low <= number <= high else default


def parse_date(value: object, *, default: date | None = None, low: date = DATE_MIN,
               high: date = DATE_MAX) -> date | None:
    """An ISO date (YYYY-MM-DD) within [low, high], else `default` (never raises)."""
    text = str(value if value is not None else "").strip()[:10]
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return default
    return parsed if low <= parsed <= high else default


class BadParameter(PortalError):
    """A number or a date given in a link or a form that is not one, or out of range."""

    status = 400

    def __init__(self, message: object, name: str) -> None:
        super().__init__(message, code="bad_parameter", parameter=name)


def int_param(values: Mapping[str, Any], name: str, *, low: int = 1,
              high: int = MAX_ID) -> int | None:
    """The whole number `name` of `values` (query or form), None when absent or empty;
    BadParameter (400, naming it) when it is given but not a number in [low, high]."""
    raw = values.get(name)
    if raw is None or not str(raw).strip():
        return None
    number = parse_int(raw, low=low, high=high)
    if number is None:
        raise BadParameter(_l("“%(name)s” must be a whole number from %(low)d to %(high)d.",
                              name=name, low=low, high=high), name)
    return number


def date_param(values: Mapping[str, Any], name: str, *, low: date = DATE_MIN,
               high: date = DATE_MAX) -> date | None:
    """The date `name` (YYYY-MM-DD) of `values`, None when absent or empty; BadParameter
    (400, naming it) when it is given but not a date in [low, high]."""
    raw = values.get(name)
    if raw is None or not str(raw).strip():
        return None
    day = parse_date(raw, low=low, high=high)
    if day is None:
        raise BadParameter(_l("“%(name)s” must be a date (YYYY-MM-DD) from %(low)s to "
                              "%(high)s.", name=name, low=low.isoformat(),
                              high=high.isoformat()), name)
    return day


def choice(value: object, allowed: Sequence[str], default: str = "") -> str:
    text = str(value if value is not None else "").strip()
    return text if text in allowed else default


@dataclass(frozen=True)
class ListFilters:
    """Base of every list's filters: paging and sorting; subclasses add their fields and
    a `parse(args)` classmethod returning the values of those fields."""

    PER_PAGE: ClassVar[int] = 50
    PER_PAGE_CHOICES: ClassVar[tuple[int, ...]] = (25, 50, 100)
    SORT_KEYS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_SORT: ClassVar[str] = ""
    # Query-string names of fields whose name is not their argument's ("from" is a keyword).
    ARG_NAMES: ClassVar[dict[str, str]] = {}

    sort: str = ""
    page: int = 1
    per_page: int = 0  # 0: the class's PER_PAGE

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        """The subclass's own fields from query-string values."""
        return {}

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Self:
        sort = str(args.get("sort") or cls.DEFAULT_SORT)
        if sort.lstrip("-") not in cls.SORT_KEYS:
            sort = cls.DEFAULT_SORT
        per_page = parse_int(args.get("per_page"), default=cls.PER_PAGE, high=1000)
        if per_page not in cls.PER_PAGE_CHOICES:
            per_page = cls.PER_PAGE
        return cls(sort=sort, page=parse_int(args.get("page"), default=1, high=MAX_PAGE) or 1,
                   per_page=per_page or cls.PER_PAGE, **cls.parse(args))

    @property
    def size(self) -> int:
        return self.per_page or self.PER_PAGE

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string values for a link to this list with `changes`, defaults left out."""
        values = replace(self, **changes)
        defaults = type(self)(sort=self.DEFAULT_SORT, per_page=self.PER_PAGE)
        return {self.ARG_NAMES.get(f.name, f.name): _arg(getattr(values, f.name))
                for f in fields(self)
                if getattr(values, f.name) not in (getattr(defaults, f.name), 0)}

    def sort_link(self, key: str) -> dict[str, Any]:
        """Arguments that sort by `key`: ascending first, descending when already so."""
        return self.args(sort=f"-{key}" if self.sort == key else key, page=1)

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def active(self) -> bool:
        """Any filter set (beyond paging and sorting)?"""
        return bool(self.args(sort=self.DEFAULT_SORT, page=1, per_page=self.PER_PAGE))


def _arg(value: object) -> object:
    """A field's value as a query-string value (a flag set is "1")."""
    return "1" if value is True else value


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    has_more: bool
    total: int | None = None  # None when the list was not counted (keyset-sized lists)

    @property
    def pages(self) -> int:
        if self.total is None:
            return self.page + (1 if self.has_more else 0)
        return max((self.total - 1) // self.per_page + 1, 1)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def page_of(query: Select[Any], page: int, per_page: int, *, count: bool = True,
            scalars: bool = True) -> Page[Any]:
    """One page of `query` (already ordered by a total order): LIMIT per_page + 1 tells
    whether more follow; `count` adds one COUNT over the same WHERE."""
    page = max(1, min(page, MAX_PAGE))
    limited = query.limit(per_page + 1).offset((page - 1) * per_page)
    result = db.session.scalars(limited) if scalars else db.session.execute(limited)
    rows = list(result.all())
    total = None
    if count:
        total = db.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return Page(items=rows[:per_page], page=page, per_page=per_page,
                has_more=len(rows) > per_page, total=total)
