"""Single sign-on in Chromium against a real server and real identity providers (issue 5): "Sign in
with Google" through the OpenID Connect peer, "Sign in with SSO" through the SAML peer. With the
default policy ("the identity provider's 2FA applies") the member's own SMS step is skipped; with
"always require our 2FA as well" the SAML sign-in continues to it.

The server of this module is started with Google pointing at the OpenID Connect peer, so it has a
database and a sign-in page of its own. The members and their links to the identity providers are
written into that database by :mod:`tests.e2e.sso_seed`, as an administrator would set them up.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import REPO_ROOT, Screens, TwofoldServer, chromium, serve
from tests.e2e.test_foundation_journey import SIGN_IN
from tests.e2e.test_two_factor_journey import SECOND_FACTOR, SmsOutbox, expect_signed_in
from tests.peers.harness import OidcProvider, SamlIdp, free_port, oidc_provider, saml_idp
from twofold.sso.models import TrustPolicy

pytestmark = pytest.mark.browser

# What ``tests.e2e.sso_seed.main`` needs: Django set up with the server's settings first.
SEED = "import django; django.setup(); from tests.e2e.sso_seed import main; main()"
# Chromium reaches the SAML peer as idp.test, so its page posts to our ACS from another site, as a
# real identity provider's does (127.0.0.1 is one site whatever the port).
IDP_SITE = "idp.test"


@dataclass(frozen=True)
class Member:
    """A member of ``account`` (administered by ``administrator``) with SMS 2FA on."""

    account: str
    administrator: str
    email: str
    name: str
    phone: str


GOOGLE_MEMBER = Member(
    "Google AG", "ada@google-ag.test", "grace@google-ag.test", "Grace Hopper", "+41791230001"
)
GOOGLE_SUB = "google-subject-of-grace"  # what links Grace, whatever email Google asserts
ACME_MEMBER = Member("Acme AG", "ada@acme.test", "bob@acme.test", "Bob Builder", "+41791230002")
INITECH_MEMBER = Member(
    "Initech AG", "ada@initech.test", "peter@initech.test", "Peter Gibbons", "+41791230003"
)


# --- The server, its identity providers and its data ---------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium resolving ``IDP_SITE`` to 127.0.0.1 (replaces the conftest's browser)."""
    with chromium(f"--host-resolver-rules=MAP {IDP_SITE} 127.0.0.1") as launched:
        yield launched


def sso_url_in_browser(idp: SamlIdp) -> str:
    """The peer's SSO URL under ``IDP_SITE``, the name Chromium knows it by."""
    return idp.sso_url.replace("//127.0.0.1:", f"//{IDP_SITE}:", 1)


@pytest.fixture(scope="module")
def twofold_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def google(twofold_port: int) -> Iterator[OidcProvider]:
    """The OpenID Connect peer playing Google, its one client being this module's server."""
    callback = f"http://127.0.0.1:{twofold_port}/accounts/oidc/google/login/callback/"
    with oidc_provider(redirect_uri=callback) as provider:
        yield provider


@pytest.fixture(scope="module")
def twofold_server(
    tmp_path_factory: pytest.TempPathFactory, twofold_port: int, google: OidcProvider
) -> Iterator[TwofoldServer]:
    """Twofold offering "Sign in with Google" at the peer (replaces the session's server)."""
    with serve(
        tmp_path_factory.mktemp("twofold-sso-e2e"),
        twofold_port,
        GOOGLE_CLIENT_ID=google.client_id,
        GOOGLE_CLIENT_SECRET=google.client_secret,
        GOOGLE_SERVER_URL=google.issuer,
    ) as server:
        yield server


def idp_for(server: TwofoldServer, slug: str) -> AbstractContextManager[SamlIdp]:
    """The SAML peer answering the connection ``slug`` of ``server``."""
    return saml_idp(
        acs_url=f"{server.url}/accounts/saml/{slug}/acs/",
        audience=f"{server.url}/accounts/saml/{slug}/metadata/",
        entity_id=f"urn:{slug}:idp",
    )


@pytest.fixture
def acme_idp(twofold_server: TwofoldServer) -> Iterator[SamlIdp]:
    with idp_for(twofold_server, "acme") as idp:
        yield idp


@pytest.fixture
def initech_idp(twofold_server: TwofoldServer) -> Iterator[SamlIdp]:
    with idp_for(twofold_server, "initech") as idp:
        yield idp


@pytest.fixture
def outbox(twofold_server: TwofoldServer) -> SmsOutbox:
    return SmsOutbox(twofold_server.data_dir / "sms-outbox.jsonl")


def seed(server: TwofoldServer, call: str, member: Member, **arguments: object) -> None:
    """Create ``member``'s account, then run ``tests.e2e.sso_seed.<call>`` for them."""
    server.cli(
        "create-account",
        "--email",
        member.administrator,
        "--name",
        member.account,
        "--password-stdin",
        input=PASSWORD,
    )
    person = {"email": member.email, "name": member.name, "phone": member.phone}
    everything = {"administrator": member.administrator, **person, **arguments}
    request = {"call": call, "arguments": everything}
    environ = {
        **server.environ,
        "DJANGO_SETTINGS_MODULE": "twofold.config.settings",
        "PYTHONPATH": str(REPO_ROOT),  # ``tests`` is importable from the data directory
    }
    done = subprocess.run(
        [sys.executable, "-c", SEED],
        env=environ,
        cwd=server.data_dir,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"sso_seed {call} failed:\n{done.stderr}"


def saml_member(
    server: TwofoldServer, member: Member, idp: SamlIdp, *, slug: str, trust: str
) -> None:
    """``member``'s account owns the domain of their email through its connection ``slug`` to
    ``idp``."""
    fields = {
        "url": idp.url,
        "entity_id": idp.entity_id,
        "acs_url": idp.acs_url,
        "audience": idp.audience,
        "certificate": idp.certificate,
    }
    domain = member.email.split("@")[1]
    seed(
        server,
        "saml_member",
        member,
        idp=fields,
        sso_url=sso_url_in_browser(idp),
        slug=slug,
        domain=domain,
        trust=trust,
    )


# --- The journeys ----------------------------------------------------------------------------


def expect_signed_in_as(page: Page, server: TwofoldServer, member: Member) -> None:
    """Home, naming the member in the page and in the menu next to their name."""
    expect_signed_in(page, server.url, member.email)
    expect(page.locator("details.usermenu summary")).to_contain_text(member.name)


def expect_no_text_to(outbox: SmsOutbox, phone: str) -> None:
    """No text message went to ``phone`` since ``outbox.mark()``."""
    sent = [text for text in outbox.texts()[outbox.seen :] if text["to"] == phone]
    assert not sent, f"our SMS step was started: {sent}"


def sign_in_with_sso(page: Page, screens: Screens, idp: SamlIdp, email: str) -> None:
    """ "Sign in with SSO" with the work email, then sign in at the identity provider, whose page
    posts its response to our ACS from another site."""
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with SSO").click()
    expect(page.get_by_role("heading", name="Sign in with SSO")).to_be_visible()
    page.get_by_label("Work email").fill(email)
    screens.shot("sso-saml-work-email")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(sso_url_in_browser(idp))}\?"))
    page.locator("#userName").fill(email)  # the NameID
    page.locator("#email").fill(email)
    screens.shot("sso-saml-identity-provider")
    # The button's name starts with an icon font's glyph: found by its id in saml-idp's user.hbs.
    with page.expect_request(lambda request: request.url == idp.acs_url) as posted:
        page.locator("#btn-sign-in").click()
    assert posted.value.method == "POST"
    assert posted.value.header_value("sec-fetch-site") == "cross-site"


def test_google_sign_in_skips_our_two_factor_when_the_identity_providers_applies(
    page: Page,
    screens: Screens,
    outbox: SmsOutbox,
    twofold_server: TwofoldServer,
    google: OidcProvider,
) -> None:
    seed(twofold_server, "google_member", GOOGLE_MEMBER, sub=GOOGLE_SUB)
    outbox.mark()

    page.goto("/accounts/login/")
    expect(page).to_have_url(SIGN_IN)
    screens.shot("sso-sign-in-offers-google-and-sso")
    page.get_by_role("button", name="Sign in with Google").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(google.issuer)}/interaction/[\w-]+$"))
    page.get_by_label("Email").fill(GOOGLE_MEMBER.email)
    page.get_by_label("Subject (optional)").fill(GOOGLE_SUB)
    screens.shot("sso-google-identity-provider")
    page.get_by_role("button", name="Sign in").click()

    expect_signed_in_as(page, twofold_server, GOOGLE_MEMBER)
    screens.shot("sso-google-signed-in")
    expect_no_text_to(outbox, GOOGLE_MEMBER.phone)


def test_saml_sign_in_skips_our_two_factor_when_the_identity_providers_applies(
    page: Page,
    screens: Screens,
    outbox: SmsOutbox,
    twofold_server: TwofoldServer,
    acme_idp: SamlIdp,
) -> None:
    saml_member(
        twofold_server, ACME_MEMBER, acme_idp, slug="acme", trust=TrustPolicy.IDP_TWO_FACTOR
    )
    outbox.mark()

    sign_in_with_sso(page, screens, acme_idp, ACME_MEMBER.email)

    expect_signed_in_as(page, twofold_server, ACME_MEMBER)
    screens.shot("sso-saml-signed-in")
    expect_no_text_to(outbox, ACME_MEMBER.phone)


def test_saml_sign_in_continues_to_our_sms_step_when_the_policy_is_always_ours(
    page: Page,
    screens: Screens,
    outbox: SmsOutbox,
    twofold_server: TwofoldServer,
    initech_idp: SamlIdp,
) -> None:
    saml_member(
        twofold_server, INITECH_MEMBER, initech_idp, slug="initech", trust=TrustPolicy.ALWAYS_OURS
    )
    outbox.mark()

    sign_in_with_sso(page, screens, initech_idp, INITECH_MEMBER.email)

    expect(page).to_have_url(SECOND_FACTOR)
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
    expect(page.get_by_test_id("signed-in-email")).to_have_count(0)
    screens.shot("sso-saml-our-sms-step")
    page.get_by_label("Verification code").fill(outbox.next_code(INITECH_MEMBER.phone))
    page.get_by_role("button", name="Verify and sign in").click()

    expect_signed_in_as(page, twofold_server, INITECH_MEMBER)
    screens.shot("sso-saml-signed-in-after-our-sms-step")
