"""``kind_from_names`` finds the first rule key among a name's words, as a scan of the keys."""

from __future__ import annotations

import random
import re

from archsim.model.kinds import _NAME_KEYS, Kind, kind_from_names


def _by_scan(component_id: str, label: str | None) -> tuple[Kind, str] | None:
    # the rule as written: the first key, in the rules' order, found as whole words
    text = f"{component_id} {label or ''}".lower().replace("_", " ")
    padded = f" {' '.join(re.findall(r'[a-z0-9]+', text))} "
    found = ((kind, key) for kind, key in _NAME_KEYS if f" {key} " in padded)
    return next(((kind, f"name contains '{key}'") for kind, key in found), None)


def test_the_first_key_in_the_rules_order_wins_wherever_it_stands_in_the_name():
    rng = random.Random(7)
    vocabulary = [w for _, key in _NAME_KEYS for w in key.split()] + ["orders", "x", "7", "api"]
    for _ in range(3000):
        words = rng.choices(vocabulary, k=rng.randint(1, 6))
        cut = rng.randint(0, len(words))
        component_id, label = "_".join(words[:cut]) or "n", " ".join(words[cut:]) or None
        expected = _by_scan(component_id, label)
        got = kind_from_names(component_id, label, None)
        if expected is not None:
            assert got == expected, (component_id, label)
        elif not got[1].startswith("a Kubernetes"):
            assert got == (Kind.SERVICE, "default for a component with no other evidence")
