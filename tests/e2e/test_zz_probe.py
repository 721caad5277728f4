import re
import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import sign_in
pytestmark = pytest.mark.e2e

def test_probe(page, live_server):
    page.on('request', lambda r: print('REQ', r.method, r.url, (r.post_data or '')[-160:]) if r.method=='POST' else None)
    sign_in(page, live_server, "nominator@hospital-kl.example.org")
    page.goto(f"{live_server}/nominations")
    page.get_by_role("button", name="Start a new nomination").click()
    page.wait_for_url(re.compile(r"/nominations/\d+/edit$"))
    url = page.url
    page.locator("#preferences-motivation").fill("To learn.")
    page.get_by_role("button", name="Next: documents").click()
    page.wait_for_url(re.compile(r"#documents$"))
    page.wait_for_timeout(1000)
    page.goto(url)
    print("motivation", repr(page.locator("#preferences-motivation").input_value()))
