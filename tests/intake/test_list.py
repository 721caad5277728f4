"""The staff nominations list: filters, search, sort, pages, counts, htmx, query count."""

from __future__ import annotations

import re
from functools import partial

from portal.nominations.models import NominationState
from tests.conftest import count_queries
from tests.nominations.factories import make_cycle, make_nomination, make_nominations

URL = "/staff/nominations/"


def _names(response) -> list[str]:  # noqa: ANN001
    """Family names of the rows, in page order."""
    html = response.get_data(as_text=True)
    return re.findall(r'href="/staff/nominations/\d+">([^<,]+)', html)


def _world(factory):  # noqa: ANN001, ANN202
    kl = factory.institution(name="Kuala Lumpur General", country="MY")
    hanoi = factory.institution(name="Bach Mai Hospital", country="VN", city="Hanoi",
                                timezone="Asia/Ho_Chi_Minh")
    old, new = make_cycle("FY2026"), make_cycle("FY2027")
    n = partial(make_nomination, state=NominationState.SUBMITTED)
    rows = {
        "Tan": n(new, kl, family_name="Tan", given_names="Wei Ming", specialty="radiology"),
        "Nguyen": n(new, hanoi, family_name="Nguyen", given_names="Van An",
                    native_name="Nguyễn Văn An"),
        "Abdullah": n(new, kl, family_name="Abdullah", state=NominationState.DRAFT,
                      is_complete=False),
        "Le": n(new, hanoi, family_name="Le", state=NominationState.UNDER_REVIEW),
        "Old": n(old, kl, family_name="Oldcycle"),
    }
    return kl, hanoi, old, new, rows


def test_filters_narrow_the_list(client, factory, staff) -> None:  # noqa: ANN001
    kl, hanoi, old, new, rows = _world(factory)

    assert sorted(_names(client.get(URL))) == ["Abdullah", "Le", "Nguyen", "Oldcycle", "Tan"]
    assert sorted(_names(client.get(f"{URL}?cycle={new.id}"))) == [
        "Abdullah", "Le", "Nguyen", "Tan"]
    assert sorted(_names(client.get(f"{URL}?country=VN"))) == ["Le", "Nguyen"]
    assert sorted(_names(client.get(f"{URL}?institution={kl.id}&cycle={new.id}"))) == [
        "Abdullah", "Tan"]
    assert _names(client.get(f"{URL}?specialty=radiology")) == ["Tan"]
    assert _names(client.get(f"{URL}?state=under_review")) == ["Le"]
    assert _names(client.get(f"{URL}?complete=no")) == ["Abdullah"]
    assert "Abdullah" not in _names(client.get(f"{URL}?complete=yes"))


def test_search_by_name_native_name_and_reference(client, factory, staff) -> None:  # noqa: ANN001
    _kl, _hanoi, _old, _new, rows = _world(factory)

    assert _names(client.get(f"{URL}?q=nguyen")) == ["Nguyen"]
    assert _names(client.get(f"{URL}?q=WEI+tan")) == ["Tan"]  # every word, any case
    assert _names(client.get(f"{URL}?q=Văn")) == ["Nguyen"]
    reference = rows["Le"].reference
    assert _names(client.get(f"{URL}?q={reference.lower()}")) == ["Le"]
    # LIKE wildcards typed by staff are searched for literally.
    response = client.get(f"{URL}?q=%25")
    assert _names(response) == []
    assert "No nomination matches." in response.get_data(as_text=True)


def test_sort_by_each_column(client, factory, staff) -> None:  # noqa: ANN001
    _world(factory)

    assert _names(client.get(f"{URL}?sort=name")) == [
        "Abdullah", "Le", "Nguyen", "Oldcycle", "Tan"]
    assert _names(client.get(f"{URL}?sort=-name")) == [
        "Tan", "Oldcycle", "Nguyen", "Le", "Abdullah"]
    by_institution = _names(client.get(f"{URL}?sort=institution"))
    assert by_institution[:2] == ["Le", "Nguyen"]  # Bach Mai before Kuala Lumpur
    assert _names(client.get(f"{URL}?sort=-country"))[:2] == ["Le", "Nguyen"]  # VN first
    assert _names(client.get(f"{URL}?sort=state"))[0] == "Abdullah"  # draft
    # Drafts have no submission time: last whichever the direction.
    assert _names(client.get(f"{URL}?sort=submitted_at"))[-1] == "Abdullah"
    assert _names(client.get(f"{URL}?sort=-submitted_at"))[-1] == "Abdullah"
    # An unknown sort falls back to the default instead of failing.
    assert client.get(f"{URL}?sort=password").status_code == 200


def test_pages_and_counts(client, factory, staff) -> None:  # noqa: ANN001
    kl = factory.institution()
    cycle = make_cycle()
    make_nominations(cycle, [kl], 30)  # submitted, draft, under review, returned in turn

    first = client.get(f"{URL}?per_page=25&sort=name")
    html = first.get_data(as_text=True)
    assert len(_names(first)) == 25
    assert "Showing 1–25 of 30 nominations." in html
    assert 'href="/staff/nominations/?sort=name&amp;page=2&amp;per_page=25"' in html
    counts = dict(re.findall(r'data-state="(\w*)">(\d+)<', html))
    assert counts == {"": "30", "submitted": "8", "draft": "8", "under_review": "7",
                      "returned": "7"}

    second = client.get(f"{URL}?per_page=25&sort=name&page=2")
    assert len(_names(second)) == 5
    assert not set(_names(first)) & set(_names(second))
    assert "Showing 26–30 of 30 nominations." in second.get_data(as_text=True)

    past = client.get(f"{URL}?per_page=25&page=9").get_data(as_text=True)
    assert "This page is past the end of the list." in past

    # Counts per state ignore the state filter (they say what each choice would give).
    drafts = client.get(f"{URL}?state=draft").get_data(as_text=True)
    assert "Showing 1–8 of 8 nominations." in drafts
    assert 'data-state="submitted">8<' in drafts


def test_htmx_gets_the_results_only_and_the_url_gives_the_page(client, factory,  # noqa: ANN001
                                                             staff) -> None:
    _world(factory)

    fragment = client.get(f"{URL}?country=VN", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "intake-filters" in text  # hidden sort input only
    assert 'id="intake-filters"' not in text
    assert sorted(_names(fragment)) == ["Le", "Nguyen"]
    assert "HX-Request" in fragment.headers.get("Vary", "")

    page = client.get(f"{URL}?country=VN")
    html = page.get_data(as_text=True)
    assert "<html" in html and 'id="intake-filters"' in html
    assert '<option value="VN" selected>' in html
    assert sorted(_names(page)) == ["Le", "Nguyen"]


def test_queries_per_page_do_not_grow_with_rows(client, factory, staff) -> None:  # noqa: ANN001
    institutions = [factory.institution(country=c) for c in ("MY", "VN", "PH", "TH")]
    cycle = make_cycle()
    make_nominations(cycle, institutions, 20)
    url = f"{URL}?cycle={cycle.id}&sort=institution&per_page=100"

    with count_queries() as small:
        assert client.get(url).status_code == 200
    with count_queries() as small_fragment:
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    make_nominations(cycle, institutions, 180)
    with count_queries() as large:
        response = client.get(url)
    with count_queries() as large_fragment:
        client.get(url, headers={"HX-Request": "true"})

    assert len(_names(response)) == 100
    assert len(small) == len(large), (small, large)
    assert len(small_fragment) == len(large_fragment)
    assert len(large) <= 10


def test_list_is_for_staff_only(client, factory, login_as) -> None:  # noqa: ANN001
    assert client.get(URL).status_code == 302  # to the sign-in page
    login_as(factory.nominator())
    assert client.get(URL).status_code == 403
    login_as(factory.reviewer())
    assert client.get(URL).status_code == 403
