"""Numbers and dates from links and forms (issue 12, point 16): ids beyond what the
databases store are 404 before any query; named parameters say which one is wrong; form
dates stay within 1900-2100. (Every route with extreme values: tests/access/
test_extreme_values.py.)"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from portal.events.codes import guest_key
from portal.listing import MAX_ID, BadParameter, date_param, int_param
from tests.events import factories


@pytest.mark.parametrize("number", ["99999999999999999999", str(MAX_ID + 1), "-1"])
def test_ids_a_database_cannot_hold_are_404(client, number: str) -> None:  # noqa: ANN001
    event = factories.event(guests_allowed=True)
    assert client.get(f"/events/{event.id}/guest").status_code == 200
    assert client.get(f"/events/{number}/guest").status_code == 404
    assert client.get(f"/events/guest/{number}/abc").status_code == 404
    assert client.post(f"/events/guest/{number}/abc/cancel").status_code == 404


def test_the_largest_id_is_still_looked_up(client) -> None:  # noqa: ANN001
    assert client.get(f"/events/{MAX_ID}/guest").status_code == 404  # no such event
    assert client.get(f"/certificates/{'9' * 30}").status_code == 404


def test_named_parameters_say_which_value_is_wrong(app_ctx) -> None:  # noqa: ANN001
    values = MultiDict({"rating": "9", "page": "99999999999999999999", "day": "9999-12-31",
                        "empty": ""})
    assert int_param(values, "missing") is None and int_param(values, "empty") is None
    assert int_param(MultiDict({"rating": "4"}), "rating", low=1, high=5) == 4
    with pytest.raises(BadParameter) as refused:
        int_param(values, "rating", low=1, high=5)
    assert refused.value.status == 400
    assert str(refused.value) == "“rating” must be a whole number from 1 to 5."
    with pytest.raises(BadParameter, match="“page” must be a whole number"):
        int_param(values, "page")
    with pytest.raises(BadParameter) as refused:
        date_param(values, "day")
    assert str(refused.value) == ("“day” must be a date (YYYY-MM-DD) from 1900-01-01 to "
                                  "2100-12-31.")


def test_a_tampered_rating_is_a_400_that_names_it(client) -> None:  # noqa: ANN001
    event = factories.past_event(guests_allowed=True)
    guest = factories.registration(event, checked_in_at=event.starts_at)
    base = f"/events/guest/{guest.id}/{guest_key(guest)}"
    assert client.post(f"{base}/feedback", data={"rating": "4"}).status_code == 303
    again = client.post(f"{base}/feedback", data={"rating": "9999-12-31"})
    assert again.status_code == 303  # a plain form: flash and back to the page
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "“rating” must be a whole number from 1 to 5." in page


def test_form_dates_outside_1900_to_2100_are_field_errors(client, factory,  # noqa: ANN001
                                                         login_as) -> None:
    login_as(factory.staff())
    form = {"kind": "seminar", "title": "Far future", "mode": "in_person", "country": "TH",
            "city": "Bangkok", "venue_timezone": "Asia/Bangkok",
            "starts_at": "0001-01-01T09:00", "ends_at": "9999-12-31T12:00",
            "capacity": "30"}
    response = client.post("/admin/events/new", data=form)
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("Enter a date from 1900 to 2100.") == 2
