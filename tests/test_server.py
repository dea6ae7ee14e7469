"""The serving process: what `python -m edgeboard.server` changes about daphne and autobahn."""

from __future__ import annotations

import pytest
import txaio
from autobahn.websocket import protocol

from edgeboard import server


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "pformat", protocol.pformat)
    level = txaio.get_global_log_level()
    server._format_autobahn_debug_only_when_logged()
    yield
    txaio.set_global_log_level(level)


def test_autobahn_formats_a_sockets_options_only_when_debug_is_logged(patched: None) -> None:
    options = [("openHandshakeTimeout", 5, "Factory"), ("autoPingInterval", 20, "Factory")]
    txaio.set_global_log_level("info")
    assert "openHandshakeTimeout" not in protocol.pformat(options)
    txaio.set_global_log_level("debug")
    assert "openHandshakeTimeout" in protocol.pformat(options)
