"""Who is calling the webhook, and what the notification body names: pure functions only."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from starlette.datastructures import Headers

from payments.yookassa.webhook import Network, _parse, client_address, forwarded_chain

PROVIDER_ID = "2fdf54e4-000f-5000-8000-1c6e3a9b7d21"
YOOKASSA_IP = ipaddress.ip_address("185.71.76.5")


def _nets(*cidrs: str) -> list[Network]:
    return [ipaddress.ip_network(cidr) for cidr in cidrs]


def _body(**fields: Any) -> bytes:
    notification: dict[str, Any] = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {"id": PROVIDER_ID, "status": "succeeded"},
    }
    notification.update(fields)
    return json.dumps(notification).encode()


# ---- client_address ---------------------------------------------------------------------


def test_without_proxies_the_peer_is_the_caller() -> None:
    assert client_address("185.71.76.5", None, []) == YOOKASSA_IP


def test_without_proxies_x_forwarded_for_is_ignored() -> None:
    assert client_address("8.8.8.8", "185.71.76.5", []) == ipaddress.ip_address("8.8.8.8")


def test_a_peer_that_is_not_a_proxy_cannot_claim_an_address() -> None:
    proxies = _nets("127.0.0.1/32")
    assert client_address("8.8.8.8", "185.71.76.5", proxies) == ipaddress.ip_address("8.8.8.8")


def test_no_peer_is_no_caller() -> None:
    assert client_address(None, "185.71.76.5", _nets("127.0.0.1/32")) is None


def test_a_garbage_peer_is_no_caller() -> None:
    assert client_address("not-an-ip", None, []) is None


def test_through_our_proxy_the_forwarded_address_is_the_caller() -> None:
    proxies = _nets("127.0.0.1/32")
    assert client_address("127.0.0.1", "185.71.76.5", proxies) == YOOKASSA_IP


def test_through_our_proxy_without_the_header_the_proxy_is_the_caller() -> None:
    proxies = _nets("127.0.0.1/32")
    assert client_address("127.0.0.1", None, proxies) == ipaddress.ip_address("127.0.0.1")
    assert client_address("127.0.0.1", "", proxies) == ipaddress.ip_address("127.0.0.1")


def test_a_hop_the_client_prepended_is_not_believed() -> None:
    proxies = _nets("127.0.0.1/32")
    caller = client_address("127.0.0.1", "185.71.76.5, 8.8.8.8", proxies)
    assert caller == ipaddress.ip_address("8.8.8.8")


def test_a_chain_of_our_proxies_is_walked_to_the_first_outsider() -> None:
    proxies = _nets("10.0.0.0/8", "127.0.0.1/32")
    caller = client_address("127.0.0.1", "8.8.8.8, 185.71.76.5, 10.1.2.3, 10.0.0.7", proxies)
    assert caller == YOOKASSA_IP


def test_whitespace_around_hops_is_tolerated() -> None:
    proxies = _nets("10.0.0.0/8")
    assert client_address("10.0.0.1", "  185.71.76.5 ,10.0.0.2  ", proxies) == YOOKASSA_IP


@pytest.mark.parametrize(
    "forwarded_for",
    ["garbage", "185.71.76.5, garbage", "185.71.76.5, ", "185.71.76.5, 10.0.0.2, 999.1.1.1"],
)
def test_a_garbage_hop_before_the_caller_is_no_caller(forwarded_for: str) -> None:
    assert client_address("10.0.0.1", forwarded_for, _nets("10.0.0.0/8")) is None


def test_ipv6_peer_without_proxies_is_the_caller() -> None:
    assert client_address("2a02:5180::1", None, []) == ipaddress.ip_address("2a02:5180::1")


def test_ipv6_proxy_forwards_an_ipv4_caller() -> None:
    proxies = _nets("::1/128")
    assert client_address("::1", "185.71.76.5", proxies) == YOOKASSA_IP
    assert client_address("[::1]", "185.71.76.5", proxies) == YOOKASSA_IP


def test_ipv4_proxy_forwards_an_ipv6_caller() -> None:
    proxies = _nets("127.0.0.1/32")
    caller = client_address("127.0.0.1", "2a02:5180::1", proxies)
    assert caller == ipaddress.ip_address("2a02:5180::1")


def test_ipv4_mapped_ipv6_peer_is_read_as_ipv4() -> None:
    caller = client_address("::ffff:185.71.76.5", None, [])
    assert caller == YOOKASSA_IP
    assert isinstance(caller, ipaddress.IPv4Address)


def test_ipv4_mapped_proxy_peer_counts_as_our_ipv4_proxy() -> None:
    proxies = _nets("127.0.0.1/32")
    assert client_address("::ffff:127.0.0.1", "185.71.76.5", proxies) == YOOKASSA_IP


def test_ipv4_mapped_hop_is_read_as_ipv4() -> None:
    proxies = _nets("127.0.0.1/32")
    assert client_address("127.0.0.1", "::ffff:185.71.76.5", proxies) == YOOKASSA_IP


# ---- _parse -----------------------------------------------------------------------------


def test_a_notification_gives_its_event_and_object_id() -> None:
    assert _parse(_body()) == ("payment.succeeded", PROVIDER_ID)


def test_a_refund_notification_is_parsed_too() -> None:
    assert _parse(_body(event="refund.succeeded")) == ("refund.succeeded", PROVIDER_ID)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\xfa",
        b"[]",
        b'"notification"',
        b"null",
        b'{"type":"notification"}',
        b'{"type":"notification","event":"payment.succeeded"}',
        b'{"type":"notification","object":{"id":"2fdf54e4-000f-5000-8000-1c6e3a9b7d21"}}',
    ],
)
def test_bodies_that_are_not_notifications_are_refused(body: bytes) -> None:
    assert _parse(body) is None


def test_a_body_of_another_type_is_refused() -> None:
    assert _parse(_body(type="payment")) is None


def test_a_non_string_event_is_refused() -> None:
    assert _parse(_body(event=5)) is None


def test_an_object_that_is_not_a_mapping_is_refused() -> None:
    assert _parse(_body(object=[PROVIDER_ID])) is None
    assert _parse(_body(object=PROVIDER_ID)) is None


@pytest.mark.parametrize(
    "object_id",
    [
        None,
        5,
        36,
        ["2fdf54e4-000f-5000-8000-1c6e3a9b7d21"],
        "",
        "2fdf54e4-000f-5000-8000-1c6e3a9b7d2",  # 35 characters
        "2fdf54e4-000f-5000-8000-1c6e3a9b7d211",  # 37 characters
        "../x",
    ],
)
def test_an_id_that_is_not_a_36_character_string_is_refused(object_id: object) -> None:
    assert _parse(_body(object={"id": object_id})) is None


@pytest.mark.parametrize(
    "object_id",
    [
        "2fdf54e4-000f-5000-8000-1c6e3a9b/d21",
        "2fdf54e4-000f-5000-8000-1c6e3a9b..21",
        "../../../../../v3/refunds/1c6e3a9b7d",
        "2fdf54e4-000f-5000-8000-1c6e3a9b7d2?",
        "2fdf54e4-000f-5000-8000-1c6e3a9 7d21",
    ],
)
def test_an_id_with_path_characters_is_refused(object_id: str) -> None:
    assert len(object_id) == 36
    assert _parse(_body(object={"id": object_id})) is None


def test_deeply_nested_json_is_refused_not_raised() -> None:
    # Fits under the webhook's 256 KiB body limit; a notification it is not.
    assert _parse(b"[" * 100_000) is None


# ---- forwarded_chain --------------------------------------------------------------------


def test_every_forwarded_for_line_is_read_in_order() -> None:
    headers = Headers(
        raw=[
            (b"x-forwarded-for", b"185.71.76.5"),
            (b"host", b"shop"),
            (b"x-forwarded-for", b"8.8.8.8, 10.0.0.2"),
        ]
    )
    chain = forwarded_chain(headers)
    assert chain == "185.71.76.5,8.8.8.8, 10.0.0.2"
    caller = client_address("10.0.0.1", chain, _nets("10.0.0.0/8"))
    assert caller == ipaddress.ip_address("8.8.8.8")


def test_no_forwarded_for_line_is_no_chain() -> None:
    assert forwarded_chain(Headers(raw=[(b"host", b"shop")])) is None
