"""The roles a person can hold. A leaf module: the foundation (navigation, dashboard
sections) names roles without importing the accounts area, which re-exports `Role`."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    STAFF = "staff"
    NOMINATOR = "nominator"
    REVIEWER = "reviewer"
    ALUMNUS = "alumnus"
