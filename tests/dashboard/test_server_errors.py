"""Server errors: a database outage answers 503 with Retry-After, pages and API alike."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from edgeboard.errors import server_error

API = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": "Bearer x"}


def answer_while_raising(error: Exception, **headers: str) -> HttpResponse:
    request = RequestFactory().get("/apps/acme-web/", headers=headers)
    try:
        raise error
    except Exception:
        return server_error(request)


@pytest.mark.parametrize("headers", [{}, API], ids=["page", "api"])
def test_an_unreachable_database_is_a_503_to_retry(headers: dict[str, str]) -> None:
    response = answer_while_raising(OperationalError("connection refused"), **headers)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    if headers:
        assert json.loads(response.content)["id"] == "service_unavailable"
    else:
        assert b"temporarily unavailable" in response.content
        assert b"Nothing you sent was saved" in response.content


@pytest.mark.parametrize("headers", [{}, API], ids=["page", "api"])
def test_any_other_failure_is_a_plain_500(headers: dict[str, str]) -> None:
    response = answer_while_raising(ZeroDivisionError(), **headers)
    assert response.status_code == 500
    assert not response.has_header("Retry-After")
    if headers:
        assert json.loads(response.content) == {
            "id": "internal_server_error",
            "message": "Internal server error.",
        }
    else:
        assert b"Something went wrong" in response.content
