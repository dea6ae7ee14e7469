"""heroku3, a Python client of the Platform API from PyPI, works against a real server unchanged."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from heroku3.api import Heroku

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


def connect(server: Server, username: str) -> Any:
    """A heroku3 client with the persona's token, pointed at the server instead of Heroku."""
    session = requests.Session()
    session.trust_env = False  # as heroku3's from_key does: no netrc, no proxy
    client = Heroku(session=session)
    # heroku3 has no option for the API's address; its base URL is this one attribute.
    client._heroku_url = server.url
    assert client.authenticate(server.user(username)["api_token"]) is True
    return client


@pytest.fixture
def alice(dashboard_server: Server) -> Any:
    return connect(dashboard_server, "alice")


def test_a_token_verifies_and_a_bad_one_does_not(dashboard_server: Server) -> None:
    client = connect(dashboard_server, "alice")
    assert client.is_authenticated is True
    assert client.ratelimit_remaining() > 0
    stranger = Heroku(session=requests.Session())
    stranger._heroku_url = dashboard_server.url
    assert stranger.authenticate("pat_not-a-token") is False


def test_account_and_apps(alice: Any) -> None:
    assert alice.account().email == "alice@acme.example"
    names = sorted(app.name for app in alice.apps())
    assert names == ["acme-api", "acme-chat", "acme-web"]
    app = alice.app("acme-web")
    assert app.name == "acme-web"
    assert app.region.name == "us"
    assert app.stack.name == "cedar-14"


def test_another_organizations_app_is_not_found(alice: Any) -> None:
    with pytest.raises(requests.HTTPError) as raised:
        alice.app("globex-store")
    assert raised.value.response.status_code == 404
    assert raised.value.response.json()["id"] == "not_found"


def test_domains_add_list_and_remove(alice: Any) -> None:
    app = alice.app("acme-api")
    added = app.add_domain("py.acme-client.example", None)
    assert added.hostname == "py.acme-client.example"
    assert added.kind == "custom"
    assert "py.acme-client.example" in [d.hostname for d in app.domains()]
    assert app.remove_domain("py.acme-client.example") is True
    assert "py.acme-client.example" not in [d.hostname for d in app.domains()]


def test_features_enable_and_disable(alice: Any) -> None:
    app = alice.app("acme-chat")
    enabled = app.enable_feature("websockets")
    assert enabled.name == "websockets" and enabled.enabled is True
    # heroku3 sends the integer 0 to disable a feature.
    disabled = app.disable_feature("websockets")
    assert disabled.enabled is False
    states = {f.name: f.enabled for f in app.features()}
    assert states["websockets"] is False


def test_a_refused_feature_raises_with_herokus_message(alice: Any) -> None:
    app = alice.app("acme-web")
    with pytest.raises(requests.HTTPError) as raised:
        app.enable_feature("websockets")
    assert raised.value.response.status_code == 422
    body = raised.value.response.json()
    assert body["message"] == "Can not add websockets feature when ssl-endpoint is in use."
