"""Where webhooks may go: no server-side request forgery through an integrator's URL.

A subscription names a host; left alone, the sender would POST to whatever that name
resolves to — the cloud's metadata service (169.254.169.254), the database next door
(10.x), the worker's own loopback. So every address a delivery might reach must be
**global**: not loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
(169.254/16, fe80::/10), multicast, reserved, unspecified or shared (100.64/10); an
IPv4-mapped IPv6 address is judged as the IPv4 one. The operator may open private
networks on purpose: ``WEBHOOK_ALLOW_PRIVATE=1`` (all of them; a test installation) or
``WEBHOOK_ALLOWED_NETWORKS`` (a comma-separated allow-list of CIDRs, e.g. the
province's document system at ``10.20.0.0/16``).

The rule is applied twice: when a subscription is made (a literal address, or a name
that resolves, to a refused address is a 422 on ``url``; a name that does not resolve
yet is accepted, since it is checked again), and at **each delivery, after DNS
resolution**, by :class:`PinnedAdapter`: it resolves the name, refuses the request if any
of its addresses is refused, and connects to the address it checked — the TLS handshake
still names (SNI) and verifies the host name, and ``Host`` is the name — so a DNS answer
that changes between the check and the connection (rebinding) cannot move it.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(requests.ConnectionError):
    """A delivery not sent: its host is, or resolves to, an address webhooks may not reach."""


def _kind(ip: Address) -> str | None:
    """Why ``ip`` is not a public address (Vietnamese, English in parentheses), or None."""
    for test, why in (("is_loopback", "địa chỉ vòng lặp của chính máy (loopback)"),
                      ("is_link_local", "địa chỉ liên kết cục bộ (link-local)"),
                      ("is_multicast", "địa chỉ phát nhóm (multicast)"),
                      ("is_unspecified", "địa chỉ không xác định (unspecified)"),
                      ("is_reserved", "địa chỉ dành riêng (reserved)"),
                      ("is_private", "địa chỉ mạng riêng (private / unique-local)")):
        if getattr(ip, test):
            return why
    return None if ip.is_global else "địa chỉ không công khai (not a global address)"


@dataclass(frozen=True)
class NetworkPolicy:
    """Which addresses deliveries may reach: global ones, and what the operator opened."""
    allow_private: bool = False
    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, env=None) -> "NetworkPolicy":
        env = os.environ if env is None else env
        try:
            nets = tuple(ipaddress.ip_network(n.strip(), strict=False)
                         for n in env.get("WEBHOOK_ALLOWED_NETWORKS", "").split(",") if n.strip())
        except ValueError as exc:
            raise ValueError("WEBHOOK_ALLOWED_NETWORKS phải là các dải CIDR cách nhau bởi dấu phẩy "
                             f"(must be comma-separated CIDRs): {exc}") from None
        allow_private = env.get("WEBHOOK_ALLOW_PRIVATE", "")
        if allow_private not in ("", "0", "1"):  # "true" or "yes" must not silently mean off
            raise ValueError(f"WEBHOOK_ALLOW_PRIVATE phải là 0 hoặc 1 (must be 0 or 1): {allow_private!r}")
        return cls(allow_private=allow_private == "1", allowed=nets)

    def address_problem(self, ip: Address) -> str | None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        why = _kind(ip)
        if why is None or self.allow_private or any(ip in net for net in self.allowed):
            return None
        return (f"{ip} là {why}: webhook chỉ được gửi tới địa chỉ công khai, trừ mạng mà quản trị mở bằng "
                f"WEBHOOK_ALLOWED_NETWORKS hoặc WEBHOOK_ALLOW_PRIVATE=1 (webhooks go only to public addresses)")

    def resolve(self, host: str, port: int) -> list[Address]:
        """Every address ``host`` resolves to (a literal address: itself); socket.gaierror if none."""
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))

    def checked(self, host: str, port: int) -> Address:
        """The address to connect to for ``host``: the first it resolves to, once all are allowed
        (a name with one refused address among public ones is refused: which one a client picks is
        the attacker's choice)."""
        try:
            addresses = self.resolve(host, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise requests.ConnectionError(f"Không phân giải được tên máy {host!r} (cannot resolve): {exc}")
        for ip in addresses:
            problem = self.address_problem(ip)
            if problem:
                raise RefusedAddress(problem if host == str(ip) else f"{host} → {problem}")
        return addresses[0]

    def url_problem(self, url: str) -> str | None:
        """At subscription: why ``url``'s host may not receive webhooks, or None (a name that does
        not resolve now is let through: each delivery checks again)."""
        parts = urlsplit(url)
        try:
            self.checked(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        except RefusedAddress as exc:
            return str(exc)
        except requests.ConnectionError:
            return None
        return None


class PinnedAdapter(HTTPAdapter):
    """A transport adapter that checks, then pins, the address of every request it sends.

    requests asks the adapter for a connection pool by (scheme, host, port); this one
    resolves the host itself, checks every address (:meth:`NetworkPolicy.checked`) and asks
    urllib3 for a pool on the checked **address**, with the host name kept as the TLS
    ``server_hostname`` (SNI) and ``assert_hostname`` (certificate check) and as ``Host``.
    urllib3 then connects to that address and never resolves the name again. No proxy: the
    sender's session ignores the environment's proxies (a proxy would resolve the name
    itself, out of reach of the check)."""

    def __init__(self, policy: NetworkPolicy, **kwargs):
        self.policy = policy
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        name, scheme = host_params["host"], host_params["scheme"]
        ip = self.policy.checked(name, host_params["port"] or (443 if scheme == "https" else 80))
        host_params["host"] = str(ip)
        if scheme == "https":
            pool_kwargs.update(server_hostname=name, assert_hostname=name)
        return host_params, pool_kwargs

    def add_headers(self, request, **kwargs):
        request.headers.setdefault("Host", urlsplit(request.url).netloc)


def session(policy: NetworkPolicy) -> requests.Session:
    """A requests session whose every request goes through :class:`PinnedAdapter`."""
    s = requests.Session()
    s.trust_env = False  # no proxies nor .netrc from the environment
    adapter = PinnedAdapter(policy)
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s
