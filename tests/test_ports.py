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
    # the allocator's memory of this session's ports starts empty: a port an earlier test's
    # stack was given would be skipped too, and the draws below run out (it did in a CI run)
    monkeypatch.setattr(ports, "_given", set())
    other = next(p for p in range(candidate + 1000, candidate + 1100) if ports._binds(p))
    try:
        draws = iter([candidate, candidate, other])
        monkeypatch.setattr(ports.random, "randint", lambda a, b: next(draws))
        assert ports.free_port() == other
    finally:
        held.close()
