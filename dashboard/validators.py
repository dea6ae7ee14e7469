"""Validation of the names people type: app, organization and edge names, hostnames."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_SLUG_RE = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def validate_slug_name(value: str, *, what: str = "Name") -> None:
    """Heroku's rule: 3-30 lowercase letters, digits and dashes, a letter first, no dash last."""
    if not isinstance(value, str) or not 3 <= len(value) <= 30:
        raise ValidationError(f"{what} must be between 3 and 30 characters long.", code="length")
    if not _SLUG_RE.fullmatch(value):
        raise ValidationError(
            f"{what} must start with a letter, end with a letter or digit and can only contain "
            "lowercase letters, digits, and dashes.",
            code="invalid",
        )
    if "--" in value:
        raise ValidationError(f"{what} cannot contain two dashes in a row.", code="invalid")


def validate_app_name(value: str) -> None:
    validate_slug_name(value, what="App name")


def validate_org_name(value: str) -> None:
    validate_slug_name(value, what="Organization name")


def validate_edge_name(value: str) -> None:
    validate_slug_name(value, what="Edge name")


def normalize_hostname(value: str) -> str:
    return value.strip().lower().removesuffix(".") if isinstance(value, str) else value


def validate_hostname(value: str) -> None:
    """A fully qualified DNS name in ASCII; internationalised names must be given as punycode."""
    if not isinstance(value, str) or not value:
        raise ValidationError("Enter a hostname.", code="required")
    if not value.isascii() or not value.isprintable():
        raise ValidationError(
            "Hostnames may only contain ASCII letters, digits, dashes and dots; write "
            "internationalised names in punycode (xn--…).",
            code="invalid",
        )
    if value != value.lower() or value.endswith("."):
        raise ValidationError("Hostnames must be lowercase, without a trailing dot.", code="case")
    if len(value) > 253:
        raise ValidationError("Hostnames are at most 253 characters long.", code="length")
    labels = value.split(".")
    if len(labels) < 2:
        raise ValidationError(
            "Enter a fully qualified hostname such as www.example.com.", code="invalid"
        )
    for label in labels:
        if not _LABEL_RE.fullmatch(label):
            raise ValidationError(
                f"“{label or '(empty)'}” is not a valid DNS label: use 1-63 letters, digits and "
                "dashes, not starting or ending with a dash.",
                code="invalid",
            )
    if labels[-1].isdigit():
        raise ValidationError("Enter a hostname, not an IP address.", code="invalid")


def validate_feature_name(value: str) -> None:
    validate_slug_name(value, what="Feature name")


def validate_text(value: str, *, what: str = "Text") -> str:
    """Free text people type (reasons, notes, labels): printable, line breaks allowed."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text.", code="invalid")
    if any(not (ch.isprintable() or ch in "\n\r\t") for ch in value):
        raise ValidationError(f"{what} cannot contain control characters.", code="invalid")
    return value


def parse_backend_address(value: str) -> tuple[str, int]:
    """A web process's address as host:port, the host an IP literal ([v6]:port for IPv6).

    Edges connect to these addresses without resolving names, so a typo cannot make a proxy
    refuse its whole configuration at start-up.
    """
    import ipaddress

    if not isinstance(value, str):
        raise ValidationError("Enter the address as host:port.", code="invalid")
    text = value.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not host or not port:
        raise ValidationError(
            "Enter the address as host:port, for example 10.0.3.7:8080 or [fd00::7]:8080.",
            code="invalid",
        )
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValidationError(
            f"“{host[:60]}” is not an IP address: back-ends are given by address, not by name.",
            code="invalid",
        ) from None
    if ip.is_unspecified or ip.is_multicast:
        raise ValidationError(f"{ip} cannot receive traffic.", code="invalid")
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValidationError("The port must be a number from 1 to 65535.", code="invalid")
    if text.startswith("[") != (ip.version == 6):
        raise ValidationError("Write IPv6 addresses in brackets: [fd00::7]:8080.", code="invalid")
    return str(ip), int(port)
