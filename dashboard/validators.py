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
