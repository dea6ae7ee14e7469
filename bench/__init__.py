"""Benchmarks of the live pushes: `make bench` (or `make bench-quick`), not part of `make test`."""

from __future__ import annotations
