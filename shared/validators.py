"""Validation of what people and edges type: names, hostnames, addresses and free text.

Identifiers (app, organization, edge and feature names, usernames, hostnames) are ASCII only, so
no look-alike letter, invisible character or markup can make one name pass for another;
internationalised hostnames are written as punycode A-labels and shown that way. Free text
(reasons, notes, labels, display names) may hold any printable character, markup included, since
templates escape it, but no control characters and nothing that reorders or hides text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from typing import Any

from django.core.exceptions import ValidationError

_SLUG_RE = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_USERNAME_RE = re.compile(r"[A-Za-z0-9@.+_-]{1,150}")
# What HAProxy shows as a server's address: an IP literal and port, or the server's name.
SERVER_ADDRESS = re.compile(r"[A-Za-z0-9.:\[\]_-]{1,100}")

# Embeddings, overrides, isolates and marks: they make text read differently from how it is
# stored ("Trojan Source").
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Letters that draw nothing, so a name made of them looks empty or like another.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Emoji sequences and several scripts need these two joiners; every other format character
# (zero-width space, word joiner, byte order mark, soft hyphen...) only hides text.
_JOINERS = frozenset("\u200c\u200d")
# Scripts whose letters pass for one another; one label mixing them is a spoof.
_LOOKALIKE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})


def describe_char(char: str) -> str:
    """A character by code point and name, so a message never has to show it."""
    name = unicodedata.name(char, "")
    if name:
        return f"U+{ord(char):04X} {name}"
    kinds = {"Cc": "a control character", "Cs": "half of a surrogate pair"}
    return f"U+{ord(char):04X}, {kinds.get(unicodedata.category(char), 'an unnamed character')}"


def _hostile_char(value: str, *, multiline: bool) -> tuple[str, str] | None:
    """The first character free text must not hold, and the kind of trouble it is."""
    for char in value:
        if char == " " or (char.isascii() and char.isprintable()):
            continue
        if char in "\n\r\t":
            if multiline:
                continue
            return char, "line"
        if char in BIDI_CONTROLS:
            return char, "direction"
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp"):
            return char, "control"
        if (category == "Cf" and char not in _JOINERS) or char in _BLANK_LETTERS:
            return char, "invisible"
    return None


def validate_text(value: str, *, what: str = "Text", multiline: bool = True) -> str:
    """Free text people type (reasons, notes): printable, line breaks allowed unless
    `multiline` is off. Markup is allowed: it is escaped wherever the text is shown."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text.", code="invalid")
    found = _hostile_char(value, multiline=multiline)
    if found is None:
        return value
    char, kind = found
    messages = {
        "line": f"{what} must fit on one line.",
        "control": f"{what} cannot contain control characters ({describe_char(char)}).",
        "direction": (
            f"{what} cannot contain characters that change the direction of text "
            f"({describe_char(char)})."
        ),
        "invisible": f"{what} cannot contain invisible characters ({describe_char(char)}).",
    }
    raise ValidationError(messages[kind], code="invalid")


def validate_line(value: str, *, what: str = "Text") -> str:
    """One line of free text: a label or a display name."""
    return validate_text(value, what=what, multiline=False)


def _first_non_ascii(value: str) -> str:
    return next(char for char in value if not char.isascii())


def validate_slug_name(value: str, *, what: str = "Name") -> None:
    """Heroku's rule: 3-30 lowercase letters, digits and dashes, a letter first, no dash last."""
    if not isinstance(value, str) or not 3 <= len(value) <= 30:
        raise ValidationError(f"{what} must be between 3 and 30 characters long.", code="length")
    if not value.isascii():
        raise ValidationError(
            f"{what} can only contain ASCII letters, digits and dashes; it contains "
            f"{describe_char(_first_non_ascii(value))}.",
            code="invalid",
        )
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


def validate_feature_name(value: str) -> None:
    validate_slug_name(value, what="Feature name")


def validate_username(value: str) -> None:
    """Usernames name people in the audit trail: ASCII letters, digits and @ . + - _ only."""
    if not isinstance(value, str) or not value:
        raise ValidationError("Enter a username.", code="required")
    if not value.isascii():
        raise ValidationError(
            "Usernames may only contain ASCII letters, digits and @ . + - _; this one contains "
            f"{describe_char(_first_non_ascii(value))}.",
            code="invalid",
        )
    if not _USERNAME_RE.fullmatch(value):
        raise ValidationError(
            "Usernames are at most 150 ASCII letters, digits and @ . + - _.", code="invalid"
        )


def normalize_hostname(value: str) -> str:
    """Drop the spaces and trailing dot people paste and lowercase ASCII letters. Non-ASCII is
    left for validate_hostname to refuse: lowercasing would turn a Kelvin sign into a k."""
    if not isinstance(value, str):
        return value
    value = value.strip(" \t\r\n")
    if value.isascii():
        value = value.lower()
    return value.removesuffix(".")


def _script(char: str) -> str:
    return unicodedata.name(char, "?").split(" ", 1)[0]


def _validate_a_label(label: str) -> None:
    """An internationalised label in punycode must decode to a plausible name: letters, marks
    and digits of one family of scripts, in canonical form."""
    invalid = ValidationError(f"“{label}” is not a valid punycode (xn--) label.", code="invalid")
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        raise invalid from None
    if not decoded or decoded.isascii() or decoded.encode("punycode").decode() != label[4:]:
        raise invalid
    for char in decoded:
        if char != "-" and unicodedata.category(char)[0] not in "LMN":
            raise ValidationError(
                f"“{label}” stands for a name with {describe_char(char)}, which hostnames "
                "cannot hold.",
                code="invalid",
            )
    if unicodedata.normalize("NFKC", decoded) != decoded or decoded.lower() != decoded:
        raise ValidationError(
            f"“{label}” is not in canonical form (uppercase, fullwidth or compatibility "
            "characters).",
            code="invalid",
        )
    scripts = {_script(c) for c in decoded if unicodedata.category(c)[0] == "L"}
    mixed = sorted(scripts & _LOOKALIKE_SCRIPTS)
    if len(mixed) > 1:
        raise ValidationError(
            f"“{label}” mixes {' and '.join(s.title() for s in mixed)} letters, the mark of a "
            "name made to look like another.",
            code="lookalike",
        )


def validate_hostname(value: str) -> None:
    """A fully qualified DNS name in ASCII; internationalised names must be given as punycode."""
    if not isinstance(value, str) or not value:
        raise ValidationError("Enter a hostname.", code="required")
    if not value.isascii():
        raise ValidationError(
            "Hostnames may only contain ASCII letters, digits, dashes and dots; write "
            "internationalised names in punycode (xn--…). This one contains "
            f"{describe_char(_first_non_ascii(value))}.",
            code="invalid",
        )
    if not value.isprintable():
        bad = next(char for char in value if not char.isprintable())
        raise ValidationError(
            f"Hostnames cannot contain control characters ({describe_char(bad)}).",
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
        if label.startswith("xn--"):
            _validate_a_label(label)
    if labels[-1].isdigit():
        raise ValidationError("Enter a hostname, not an IP address.", code="invalid")


def validate_certificate_name(value: str) -> None:
    """A name a certificate covers: a hostname, or a wildcard (*.) over one."""
    if isinstance(value, str) and value.startswith("*."):
        value = value[2:]
    validate_hostname(value)


def validate_server_address(value: str) -> None:
    """A back-end server's address as an edge reports it: an IP literal and port, or the name
    its proxy gives the server."""
    if not isinstance(value, str) or not SERVER_ADDRESS.fullmatch(value):
        raise ValidationError(
            "A server address is at most 100 ASCII letters, digits and . : [ ] _ -.",
            code="invalid",
        )


def clean_text_fields(
    instance: Any,
    exclude: Collection[str] | None,
    clean_fields: Callable[[Collection[str] | None], None],
    checks: dict[str, Callable[[Any], Any]],
) -> None:
    """A model's clean_fields plus the checks of its free-text fields, skipping the excluded
    ones (a form that does not show a field cannot report an error on it)."""
    errors: dict[str, Any] = {}
    try:
        clean_fields(exclude)
    except ValidationError as invalid:
        errors = invalid.update_error_dict(errors)
    for name, check in checks.items():
        if (exclude and name in exclude) or name in errors:
            continue
        try:
            check(getattr(instance, name))
        except ValidationError as invalid:
            errors[name] = invalid.error_list
    if errors:
        raise ValidationError(errors)


def parse_backend_address(value: str) -> tuple[str, int]:
    """A web process's address as host:port, the host an IP literal ([v6]:port for IPv6).

    Edges connect to these addresses without resolving names, so a typo cannot make a proxy
    refuse its whole configuration at start-up.
    """
    import ipaddress

    if not isinstance(value, str):
        raise ValidationError("Enter the address as host:port.", code="invalid")
    text = value.strip()
    if not text.isascii() or not text.isprintable():
        bad = next(char for char in text if not (char.isascii() and char.isprintable()))
        raise ValidationError(
            f"An address is written with ASCII digits, dots and colons; this one contains "
            f"{describe_char(bad)}.",
            code="invalid",
        )
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not host or not port:
        raise ValidationError(
            "Enter the address as host:port, for example 10.0.3.7:8080 or [fd00::7]:8080.",
            code="invalid",
        )
    if "%" in host:
        raise ValidationError(
            "Leave out the zone (%…): edges on other hosts cannot use it.", code="invalid"
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
