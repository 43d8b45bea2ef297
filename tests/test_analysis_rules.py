"""Analysis rules: the seed's blast radius and SPOFs reasoned from its graph, the one-rule
corpus, and per-file / per-run rule configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.analysis import RULES, AnalysisConfig, analyze
from archsim.errors import InvalidModelError, ScenarioError, Severity
from archsim.model import load, read_architecture

CORPUS = Path(__file__).parent / "analysis_corpus"
ROOT = Path(__file__).resolve().parent.parent

# Entry routes of the seed. The balancer distributes to api_gateway, user_service and
# product_service; the gateway routes to user, product, order and payment services.
API_USERS = {"GET /api/users/{id}", "GET /api/users", "POST /api/users", "POST /api/users/login"}
API_PRODUCTS = {"GET /api/products/{id}", "GET /api/products", "POST /api/products"}
API_ORDERS = {"GET /api/orders/{id}", "GET /api/orders", "POST /api/orders"}
API_PAYMENTS = {"POST /api/payments"}
DIRECT_USERS = {"GET /users/{id}", "GET /users", "POST /users", "POST /users/login"}
DIRECT_PRODUCTS = {"GET /products/{id}", "GET /products", "POST /products"}
ALL_API = API_USERS | API_PRODUCTS | API_ORDERS | API_PAYMENTS


@pytest.fixture(scope="module")
def report():
    return analyze(load(ROOT / "topology.dot").architecture)


def test_seed_entries_are_the_ones_reasoned_about(report) -> None:
    entries = {e.id for e in load(ROOT / "topology.dot").architecture.behaviour.entries}
    assert entries == ALL_API | DIRECT_USERS | DIRECT_PRODUCTS


def test_blast_radius_order_db(report) -> None:
    # Only order_service stores in order_db, and every order operation reads or writes it;
    # nothing else calls order_service.
    blast = report.blast.of("order_db")
    assert set(blast.fails) == API_ORDERS
    assert blast.degrades == ()


def test_blast_radius_message_broker(report) -> None:
    # Only order creation publishes (OrderPlaced); publishing waits for the broker.
    blast = report.blast.of("message_broker")
    assert set(blast.fails) == {"POST /api/orders"}
    assert blast.degrades == ()


def test_blast_radius_auth_service(report) -> None:
    # The gateway validates every request with auth but signing up (public: nobody has a token
    # yet); user_service's login issues a token with it, also when the balancer sends the login
    # straight to user_service.
    blast = report.blast.of("auth_service")
    assert set(blast.fails) == (ALL_API - {"POST /api/users"}) | {"POST /users/login"}
    assert blast.degrades == ()


def test_blast_radius_payment_provider(report) -> None:
    # payment_service integrates with the provider; payments are created directly through the
    # gateway and by order creation (order_service calls payment_service).
    blast = report.blast.of("payment_provider")
    assert set(blast.fails) == {"POST /api/payments", "POST /api/orders"}
    assert blast.degrades == ()


def test_degrading_components_of_the_seed(report) -> None:
    # The cache only degrades: user/product reads (both doors), creates (invalidate) and order
    # creation, which reads a user and a product.
    cache = report.blast.of("cache")
    assert cache.fails == ()
    assert set(cache.degrades) == (API_USERS | DIRECT_USERS | API_PRODUCTS | DIRECT_PRODUCTS
                                   | {"POST /api/orders"}) - {"POST /api/users/login",
                                                              "POST /users/login"}  # fmt: skip
    # The notification side is asynchronous: losing it (or email) only backs events up.
    for comp in ("notification_service", "email_service"):
        assert report.blast.of(comp).fails == ()
        assert set(report.blast.of(comp).degrades) == {"POST /api/orders"}
    # Config is read at start-up by user, product and order services, not by payment.
    config = report.blast.of("config_service")
    assert config.fails == ()
    assert set(config.degrades) == (ALL_API | DIRECT_USERS | DIRECT_PRODUCTS) - API_PAYMENTS


def test_seed_spofs_are_the_single_replica_infrastructure(report) -> None:
    spofs = {f.components[0] for f in report.findings if f.rule == "single-point-of-failure"}
    assert spofs == {
        "load_balancer", "api_gateway", "auth_service", "service_registry", "config_service",
        "message_broker", "cache", "user_db", "product_db", "order_db",
    }  # fmt: skip


def test_seed_has_no_cycle_and_the_expected_smells(report) -> None:
    rules = {f.rule for f in report.findings}
    assert "sync-cycle" not in rules
    assert "hub-like" not in rules and "deep-sync-chain" not in rules
    bypass = {f.components[0] for f in report.findings if f.rule == "bypassed-gateway"}
    assert bypass == {"user_service", "product_service"}
    wobbly = {f.components for f in report.findings if f.rule == "wobbly-interaction"}
    assert wobbly == {
        ("payment_service", "payment_provider"),
        ("notification_service", "email_service"),
    }
    config = {f.components[0] for f in report.findings if f.rule == "inconsistent-config"}
    assert config == {"payment_service", "notification_service"}


def test_findings_are_sorted_worst_first_and_complete(report) -> None:
    ranks = {Severity.ERROR: 2, Severity.WARNING: 1, Severity.INFO: 0}
    severities = [ranks[f.severity] for f in report.findings]
    assert severities == sorted(severities, reverse=True)
    for f in report.findings:
        assert f.components and f.message and f.why and f.fix


def test_critical_path_of_order_creation(report) -> None:
    arch = load(ROOT / "topology.dot").architecture
    path = next(p for p in report.critical_paths if p.entry == "POST /api/orders")
    assert [h.component for h in path.path] == [
        "load_balancer", "api_gateway", "order_service", "payment_service", "payment_provider",
    ]  # fmt: skip
    mean = {c.id: c.service_time.mean for c in arch.components}
    hop = 2 * arch.network_latency
    # create_payment: compute, then one call to the provider.
    assert path.path[3].expected == pytest.approx(
        mean["payment_service"] + hop + mean["payment_provider"]
    )
    assert path.expected == path.path[0].expected > path.path[3].expected
    assert len(report.critical_paths) == len(arch.behaviour.entries)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.dot")), ids=lambda p: p.stem)
def test_corpus_triggers_exactly_its_rule(path: Path) -> None:
    findings = analyze(load(path).architecture).findings
    if path.stem == "clean":
        assert findings == ()
    else:
        assert [f.rule for f in findings] == [path.stem]


def test_corpus_covers_every_rule() -> None:
    assert {p.stem for p in CORPUS.glob("*.dot")} == {r.id for r in RULES} | {"clean"}


def test_file_disable_and_run_enable() -> None:
    text = (
        (CORPUS / "hub-like.dot")
        .read_text()
        .replace("{\n", '{\n    analyze_disable="hub-like";\n', 1)
    )
    arch = read_architecture(text, "hub.dot").architecture
    assert analyze(arch).findings == ()
    assert analyze(arch).disabled == ("hub-like",)
    again = analyze(arch, AnalysisConfig(enable=frozenset({"hub-like"})))
    assert [f.rule for f in again.findings] == ["hub-like"]


def test_file_and_run_severity() -> None:
    text = (
        (CORPUS / "hub-like.dot")
        .read_text()
        .replace("{\n", '{\n    analyze_severity="hub-like=error";\n', 1)
    )
    arch = read_architecture(text, "hub.dot").architecture
    assert analyze(arch).findings[0].severity is Severity.ERROR
    run = AnalysisConfig(severity={"hub-like": Severity.INFO})
    assert analyze(arch, run).findings[0].severity is Severity.INFO


def test_node_ignore() -> None:
    text = (
        (CORPUS / "hub-like.dot")
        .read_text()
        .replace(
            'hub [label="HUB Service", kind="service"]',
            'hub [label="HUB Service", kind="service", analyze_ignore="hub-like"]',
        )
    )
    assert "analyze_ignore" in text
    assert analyze(read_architecture(text, "hub.dot").architecture).findings == ()


def test_run_disable_and_chain_limit() -> None:
    arch = load(CORPUS / "deep-sync-chain.dot").architecture
    assert analyze(arch, AnalysisConfig(disable=frozenset({"deep-sync-chain"}))).findings == ()
    assert analyze(arch, AnalysisConfig(max_chain_depth=4)).findings == ()
    text = (
        (CORPUS / "deep-sync-chain.dot")
        .read_text()
        .replace("{\n", '{\n    analyze_max_chain_depth="4";\n', 1)
    )
    assert analyze(read_architecture(text, "chain.dot").architecture).findings == ()


@pytest.mark.parametrize(
    ("attr", "code"),
    [
        ('analyze_disable="hub-lik"', "unknown-rule"),
        ('analyze_severity="hub-like=fatal"', "invalid"),
        ('analyze_max_chain_depth="zero"', "invalid"),
    ],
)
def test_bad_file_settings_are_clear_errors(attr: str, code: str) -> None:
    text = (CORPUS / "clean.dot").read_text().replace("{\n", f"{{\n    {attr};\n", 1)
    with pytest.raises(InvalidModelError) as err:
        analyze(read_architecture(text, "bad.dot").architecture)
    assert err.value.location.file == "bad.dot"
    if code == "unknown-rule":
        assert err.value.hint == "did you mean 'hub-like'?"


def test_unknown_component_in_blast() -> None:
    report = analyze(load(CORPUS / "clean.dot").architecture)
    with pytest.raises(ScenarioError) as err:
        report.blast.of("order_db")
    assert "orders_db" in (err.value.hint or "")


def test_cycles_keep_blast_and_paths_finite() -> None:
    arch = load(CORPUS / "sync-cycle.dot").architecture
    report = analyze(arch)
    # Only order creation calls billing (which calls back into orders); the auth service's
    # sign-up (rule auth.accounts) calls nothing.
    creates = {
        e.id
        for e in arch.behaviour.entries
        if e.target.operation.startswith("create_") and e.target.operation != "create_account"
    }
    assert creates and set(report.blast.of("billing").fails) == creates
    assert all(p.expected < 1.0 for p in report.critical_paths)
