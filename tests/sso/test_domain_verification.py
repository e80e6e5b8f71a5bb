"""An email domain counts only once its claim is proven (sso/domain_verification.py): a DNS TXT
record ``twofold-verification=<token>`` (read with dnspython from a real DNS server on 127.0.0.1,
tests/sso/dns_zone.py), or the operator's ``twofold verify-domain``; ``twofold check-domains``
re-checks. Unverified claims route nobody ("Sign in with SSO") and let nobody join just in time.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from django.test import Client

from tests.concurrency import at_once
from tests.conftest import freshly_signed_in
from tests.peers.harness import OidcProvider
from tests.sso.conftest import sign_in
from tests.sso.dns_zone import Zone
from twofold import cli, clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import Conflict, NotFound
from twofold.organizations.models import Membership
from twofold.sso import domain_verification, flows
from twofold.sso.domain_verification import LAPSE_AFTER, Outcome
from twofold.sso.models import EmailDomain, SamlConnection, VerifiedBy
from twofold.users.models import User

pytestmark = pytest.mark.django_db

DOMAINS = "/api/v1/organization/sso/domains"


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, path, data, content_type="application/json")


def codes(answer: Any) -> list[str]:
    return [e["code"] for e in answer.json()["errors"]]


def claim(membership: Membership, domain: str = "acme.test", **fields: Any) -> EmailDomain:
    return EmailDomain.objects.create(organization=membership.organization, domain=domain, **fields)


def connection_of(membership: Membership, name: str = "IdP") -> SamlConnection:
    return SamlConnection.objects.create(
        organization=membership.organization,
        name=name,
        idp_entity_id=f"urn:{membership.organization.pk}",
        idp_sso_url="https://idp.test/sso",
        idp_certificate="-",
    )


@pytest.fixture
def squatter(make_member: Any) -> Membership:
    """The administrator of an account that claims a domain it does not own."""
    return make_member("eve@squat.test")


# --- A claim alone does nothing -------------------------------------------------------------------


def test_an_unverified_claim_sends_nobody_to_its_connection(
    squatter: Membership, dns_zone: Zone
) -> None:
    claim(squatter, connection=connection_of(squatter))

    with pytest.raises(NotFound):
        flows.connection_for_email("bob@acme.test")
    answer = Client().post(
        "/api/v1/auth/sso", json.dumps({"email": "bob@acme.test"}), content_type="application/json"
    )
    assert (answer.status_code, codes(answer)) == (404, ["no_sso_for_domain"])
    assert Client().post("/accounts/sso/", {"email": "bob@acme.test"}).status_code == 400


@pytest.mark.usefixtures("sso")
def test_an_unverified_claim_lets_nobody_join_just_in_time(
    google: OidcProvider, squatter: Membership
) -> None:
    """Google vouches for ``hd=acme.test``: only the account that proved acme.test is theirs may
    receive that company's people."""
    claim(squatter, just_in_time=True)
    client = Client()

    answer = sign_in(client, google, "google", email="dan@acme.test", sub="g-dan", hd="acme.test")

    assert answer.status_code == 403
    assert not User.objects.filter(email="dan@acme.test").exists()


def test_a_verified_claim_routes_and_lets_people_join(
    administrator: Membership, dns_zone: Zone
) -> None:
    connection = connection_of(administrator)
    claim(administrator, connection=connection, verified_at=clock.now())

    assert flows.connection_for_email("bob@acme.test") == connection


# --- Verification by the TXT record ---------------------------------------------------------------


def test_a_domain_is_verified_by_its_txt_record(administrator: Membership, dns_zone: Zone) -> None:
    client = freshly_signed_in(Client(), administrator)
    added = send(client, "POST", DOMAINS, {"domain": "acme.test"}).json()["data"]
    assert added["verified"] is False
    record = added["verification"]
    assert (record["type"], record["name"]) == ("TXT", "acme.test")
    assert record["value"].startswith("twofold-verification=")
    dns_zone.publish("acme.test", "v=spf1 -all")
    dns_zone.publish("acme.test", record["value"])

    answer = send(client, "POST", f"{DOMAINS}/{added['id']}/verify")

    assert answer.status_code == 200
    assert answer.json()["data"]["verified"] is True
    claimed = EmailDomain.objects.get()
    assert (claimed.verified, claimed.verified_by) == (True, VerifiedBy.DNS)
    event = AuditEvent.objects.filter(event=Event.SSO_SETTINGS_CHANGED).latest("pk")
    assert event.detail == {"domain": "acme.test", "domain_action": "verified"}
    assert "acme.test" in dns_zone.queries


def test_verifying_without_the_record_is_a_409_naming_the_record_to_publish(
    administrator: Membership, squatter: Membership, dns_zone: Zone
) -> None:
    mine = claim(administrator)
    dns_zone.publish("acme.test", claim(squatter).txt_record)  # another claim's record
    client = freshly_signed_in(Client(), administrator)

    answer = send(client, "POST", f"{DOMAINS}/{mine.pk}/verify")

    assert (answer.status_code, codes(answer)) == (409, ["domain_record_missing"])
    assert mine.txt_record in answer.json()["errors"][0]["message"]
    assert not EmailDomain.objects.verified().exists()


def test_a_dns_outage_at_verification_is_a_503_and_changes_nothing(
    administrator: Membership, dns_zone: Zone
) -> None:
    mine = claim(administrator)
    dns_zone.publish("acme.test", mine.txt_record)
    dns_zone.failing = True
    client = freshly_signed_in(Client(), administrator)

    answer = send(client, "POST", f"{DOMAINS}/{mine.pk}/verify")

    assert (answer.status_code, codes(answer)) == (503, ["dns_unavailable"])
    assert not EmailDomain.objects.verified().exists()


def test_the_owner_claims_a_domain_a_squatter_claimed_first_and_wins_it_by_its_record(
    administrator: Membership, squatter: Membership, dns_zone: Zone
) -> None:
    theirs = claim(squatter)
    client = freshly_signed_in(Client(), administrator)

    added = send(client, "POST", DOMAINS, {"domain": "acme.test"})
    assert added.status_code == 201
    dns_zone.publish("acme.test", added.json()["data"]["verification"]["value"])
    assert send(client, "POST", f"{DOMAINS}/{added.json()['data']['id']}/verify").status_code == 200

    with pytest.raises(Conflict) as taken:
        domain_verification.verify_domain(squatter, theirs.pk)
    assert taken.value.code == "domain_taken"
    again = send(freshly_signed_in(Client(), squatter), "POST", DOMAINS, {"domain": "acme.test"})
    assert codes(again) == ["domain_taken"]


def test_a_domain_verified_by_another_account_cannot_be_claimed_and_is_not_named(
    administrator: Membership, squatter: Membership, dns_zone: Zone
) -> None:
    claim(squatter, verified_at=clock.now())
    client = freshly_signed_in(Client(), administrator)

    answer = send(client, "POST", DOMAINS, {"domain": "acme.test"})

    assert (answer.status_code, codes(answer)) == (409, ["domain_taken"])
    assert squatter.organization.name not in answer.content.decode()


def test_another_accounts_claim_cannot_be_verified_through_mine(
    administrator: Membership, squatter: Membership, dns_zone: Zone
) -> None:
    theirs = claim(squatter)
    client = freshly_signed_in(Client(), administrator)

    answer = send(client, "POST", f"{DOMAINS}/{theirs.pk}/verify")

    assert answer.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_twenty_accounts_verifying_one_domain_at_once_leave_exactly_one_verified_claim(
    make_member: Any, dns_zone: Zone
) -> None:
    """The race as it happens: 20 accounts, each with its record published, press "Verify" at
    the same moment; the database keeps one verified claim, the others hear ``domain_taken``."""
    claims = []
    for n in range(20):
        admin = make_member(f"admin{n}@account{n}.test")
        claims.append((admin, claim(admin)))
        dns_zone.publish("acme.test", claims[-1][1].txt_record)
    turn = iter(claims)

    def verify() -> EmailDomain:
        admin, claimed = next(turn)
        return domain_verification.verify_domain(admin, claimed.pk)

    outcomes = at_once(verify)

    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refused) == 19, outcomes
    assert {o.code for o in refused} == {"domain_taken"}
    assert EmailDomain.objects.verified().filter(domain="acme.test").count() == 1


# --- The periodic check (twofold check-domains) ---------------------------------------------------


def test_check_domains_verifies_a_pending_claim_whose_record_appeared(
    administrator: Membership, dns_zone: Zone, capsys: Any
) -> None:
    mine = claim(administrator)
    claim(administrator, "other.test")
    dns_zone.publish("acme.test", mine.txt_record)

    assert cli.main(["check-domains"]) == 0

    assert capsys.readouterr().out.strip() == "Checked 2 claimed domains: 1 pending, 1 verified."
    assert list(EmailDomain.objects.verified().values_list("domain", flat=True)) == ["acme.test"]


def test_a_verified_domain_whose_record_is_gone_lapses_after_three_checks_in_a_row(
    administrator: Membership, dns_zone: Zone
) -> None:
    connection = connection_of(administrator)
    mine = claim(administrator, connection=connection)
    dns_zone.publish("acme.test", mine.txt_record)
    assert domain_verification.check(mine) is Outcome.VERIFIED
    dns_zone.remove("acme.test")

    outcomes = [domain_verification.check(EmailDomain.objects.get()) for _ in range(LAPSE_AFTER)]

    assert outcomes == [Outcome.MISSED] * (LAPSE_AFTER - 1) + [Outcome.LAPSED]
    assert not EmailDomain.objects.get().verified
    with pytest.raises(NotFound):
        flows.connection_for_email("bob@acme.test")
    event = AuditEvent.objects.filter(event=Event.SSO_SETTINGS_CHANGED).latest("pk")
    assert event.detail == {"domain": "acme.test", "domain_action": "verification_lapsed"}


def test_a_record_back_before_the_lapse_starts_the_count_again(
    administrator: Membership, dns_zone: Zone
) -> None:
    mine = claim(administrator, verified_at=clock.now(), verified_by=VerifiedBy.DNS)
    for _ in range(LAPSE_AFTER - 1):
        domain_verification.check(EmailDomain.objects.get())
    dns_zone.publish("acme.test", mine.txt_record)

    assert domain_verification.check(EmailDomain.objects.get()) is Outcome.STILL_VERIFIED
    assert EmailDomain.objects.get().missed_checks == 0


def test_a_dns_outage_during_the_periodic_checks_never_unverifies_a_domain(
    administrator: Membership, dns_zone: Zone
) -> None:
    claim(administrator, verified_at=clock.now(), verified_by=VerifiedBy.DNS)
    dns_zone.failing = True

    outcomes = [domain_verification.check(EmailDomain.objects.get()) for _ in range(5)]

    assert outcomes == [Outcome.UNAVAILABLE] * 5
    assert (EmailDomain.objects.get().verified, EmailDomain.objects.get().missed_checks) == (
        True,
        0,
    )


# --- The operator (twofold verify-domain) ---------------------------------------------------------


def test_the_operator_verifies_a_claim_without_dns_and_checks_leave_it_alone(
    administrator: Membership, dns_zone: Zone, capsys: Any
) -> None:
    claim(administrator, "intranet.test")

    assert cli.main(["verify-domain", "Intranet.TEST"]) == 0

    assert "intranet.test is now verified" in capsys.readouterr().out
    claimed = EmailDomain.objects.get()
    assert (claimed.verified, claimed.verified_by) == (True, VerifiedBy.OPERATOR)
    assert domain_verification.check_all().outcomes == Counter({Outcome.OPERATOR: 1})
    assert dns_zone.queries == []
    event = AuditEvent.objects.filter(event=Event.SSO_SETTINGS_CHANGED).latest("pk")
    assert (event.actor, event.detail["domain_action"]) == (None, "verified_by_operator")


def test_the_operator_names_the_account_when_several_claim_the_domain(
    administrator: Membership, squatter: Membership, capsys: Any
) -> None:
    claim(administrator)
    claim(squatter)

    assert cli.main(["verify-domain", "acme.test"]) == 1
    assert "--account" in capsys.readouterr().err
    assert (
        cli.main(["verify-domain", "acme.test", "--account", str(administrator.organization_id)])
        == 0
    )

    [verified] = EmailDomain.objects.verified()
    assert verified.organization == administrator.organization
    assert cli.main(["verify-domain", "acme.test", "--account", str(squatter.organization_id)]) == 1
    assert "already claimed by another account" in capsys.readouterr().err
    assert cli.main(["verify-domain", "nobody.test"]) == 1
