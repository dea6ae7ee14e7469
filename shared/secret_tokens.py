"""Secret tokens: generated once, shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from typing import NamedTuple

PREFIX_LENGTH = 12


class NewToken(NamedTuple):
    raw: str
    prefix: str
    digest: str


def hash_token(raw: str) -> str:
    # The tokens carry 256 bits of entropy, so a fast digest is enough: nothing to brute-force.
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def generate_token(kind: str) -> NewToken:
    """A token such as `pat_3q…`; `kind` tells people at a glance what it unlocks."""
    raw = f"{kind}_{secrets.token_urlsafe(32)}"
    return NewToken(raw=raw, prefix=raw[:PREFIX_LENGTH], digest=hash_token(raw))
