"""Where do customers' domains point? CNAME look-ups against the configured resolver."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.resolver
from django.conf import settings

from dashboard.models import Domain


@dataclass(frozen=True)
class DnsAnswer:
    status: str
    seen: str = ""


def _resolver() -> dns.resolver.Resolver:
    configured = settings.DNS_RESOLVER
    resolver = dns.resolver.Resolver(configure=configured is None)
    if configured is not None:
        host, port = configured
        resolver.nameservers = [host]
        resolver.port = port
    resolver.lifetime = settings.DNS_TIMEOUT
    resolver.timeout = settings.DNS_TIMEOUT
    return resolver


def _addresses(resolver: dns.resolver.Resolver, hostname: str) -> set[str]:
    try:
        return {r.to_text() for r in resolver.resolve(hostname, "A")}
    except (dns.exception.DNSException, OSError):
        return set()


def lookup(
    hostname: str, expected: str, resolver: dns.resolver.Resolver | None = None
) -> DnsAnswer:
    """`ok` when the hostname's CNAME is the expected edge hostname (or, for an apex, its
    addresses are the edge's), `dns_update_required` with what it points at, else
    `unresolvable`."""
    resolver = resolver or _resolver()
    try:
        answer = resolver.resolve(hostname, "CNAME")
        target = answer[0].target.to_text().rstrip(".").lower()
        if target == expected:
            return DnsAnswer(Domain.DnsStatus.OK)
        return DnsAnswer(Domain.DnsStatus.UPDATE_REQUIRED, target)
    except dns.resolver.NoAnswer:
        addresses = _addresses(resolver, hostname)
        if not addresses:
            return DnsAnswer(Domain.DnsStatus.UNRESOLVABLE, "no CNAME or address record")
        if addresses == _addresses(resolver, expected):
            return DnsAnswer(Domain.DnsStatus.OK)
        return DnsAnswer(Domain.DnsStatus.UPDATE_REQUIRED, ", ".join(sorted(addresses)))
    except dns.resolver.NXDOMAIN:
        return DnsAnswer(Domain.DnsStatus.UNRESOLVABLE, "no such domain")
    except (dns.exception.Timeout, dns.resolver.LifetimeTimeout):
        return DnsAnswer(Domain.DnsStatus.UNRESOLVABLE, "no answer in time")
    except (dns.exception.DNSException, OSError) as error:
        return DnsAnswer(Domain.DnsStatus.UNRESOLVABLE, type(error).__name__)


def lookup_many(domains: list[Domain], *, budget: float | None = None) -> dict[int, DnsAnswer]:
    """Look up several domains in parallel, never taking longer than `budget` seconds overall."""
    budget = settings.DNS_CHECK_BUDGET if budget is None else budget
    if not domains:
        return {}
    resolver = _resolver()
    pool = ThreadPoolExecutor(max_workers=min(8, len(domains)))
    futures: dict[Any, Domain] = {
        pool.submit(lookup, d.hostname, d.edge.hostname, resolver): d for d in domains
    }
    started = time.monotonic()
    done, _pending = wait(futures, timeout=budget)
    pool.shutdown(wait=False, cancel_futures=True)
    results = {}
    for future, domain in futures.items():
        if future in done and future.exception() is None:
            results[domain.pk] = future.result()
        else:
            waited = time.monotonic() - started
            results[domain.pk] = DnsAnswer(
                Domain.DnsStatus.UNRESOLVABLE, f"no answer within {waited:.0f} s"
            )
    return results
