"""name_has: whole words of an id or label, answered per word list (its lookups are cached)."""

from __future__ import annotations

from archsim.model.kinds import name_has


def test_same_name_asked_with_other_words_answers_for_those_words():
    for _ in range(2):  # the second round is answered from the caches
        assert name_has("orderCdcConnector", "Kafka Connect", ("cdc", "debezium")) == "cdc"
        assert name_has("orderCdcConnector", "Kafka Connect", ("debezium",)) is None
        assert name_has("orderCdcConnector", "Kafka Connect", ("kafka connect",)) == "kafka connect"
        assert name_has("orderCdcConnector", None, ("kafka connect",)) is None
        assert name_has("prometheus", None, ("metrics", "prometheus")) == "prometheus"
        assert name_has("prom_etheus", None, ("prometheus",)) is None
