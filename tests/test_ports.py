"""Ports the launcher hands out: bindable, distinct, and never ones outgoing connections take."""

from __future__ import annotations

import socket

from archsim.runtime import ports
from archsim.runtime.ports import ephemeral_range, free_port


def test_ports_are_distinct_bindable_and_below_the_ephemeral_range():
    low, high = ephemeral_range()
    assert 0 < low <= high < 65536
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)  # never handed out twice
    assert all(p < low for p in ports)  # an outgoing connection cannot steal them
    for port in ports[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_skipped(monkeypatch):
    held = socket.socket()
    for candidate in range(20000, 20100):  # a listening port the allocator has never seen
        try:
            held.bind(("127.0.0.1", candidate))
            break
        except OSError:
            continue
    held.listen()
    try:
        draws = iter([candidate, candidate, candidate + 1000])
        monkeypatch.setattr(ports.random, "randint", lambda a, b: next(draws))
        assert ports.free_port() == candidate + 1000
    finally:
        held.close()
