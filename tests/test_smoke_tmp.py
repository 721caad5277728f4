def test_login_dashboard(client, factory, login_as):
    staff = factory.staff()
    login_as(staff)
    r = client.get("/dashboard")
    assert r.status_code == 200
    assert staff.name.encode() in r.data
