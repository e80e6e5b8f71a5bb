"""``/auth/forward`` (api/idp/forward_auth.py): a reverse proxy's check of each request.

Each rule is proved on both paths: the short path (the middleware answers before the rest of the
stack) and the full stack (the view), which must answer alike; where the short path must
decline, the full stack decides.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from tests.api.test_session_check import ENGINES
from tests.conftest import PASSWORD, age_authentication, freshly_signed_in, signed_in
from twofold.api.idp import forward_auth
from twofold.organizations.flows import deactivate_member
from twofold.sessions import timeouts
from twofold.sessions.member_sessions import end_all_sessions

CHECK = "/auth/forward"
SHORT_PATH = "twofold.api.idp.forward_auth.ForwardAuthMiddleware"
AAL1 = "urn:twofold:aal1"
AAL2 = "urn:twofold:aal2"
APP = "https://app.example.test/reports?month=11&year=2026"
NGINX = {"HTTP_X_ORIGINAL_URL": APP}


@pytest.fixture(params=ENGINES, ids=["db", "cached_db", "django_db", "django_cached_db"])
def session_engine(request, settings):
    settings.SESSION_ENGINE = request.param
    return request.param


@pytest.fixture(params=["short path", "full stack"])
def path(request, settings) -> str:
    """Both ways an answer is made: every rule must hold on each."""
    if request.param == "full stack":
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != SHORT_PATH]
    return request.param


def early(client: Client, query: str = "", **headers):
    """What the short path answers for ``client``'s cookie (None: it declines)."""
    request = RequestFactory().get(f"{CHECK}{query}", **headers)
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if cookie is not None:
        request.COOKIES[settings.SESSION_COOKIE_NAME] = cookie.value
    return forward_auth.early(request)


def sign_in_link(response) -> dict[str, str]:
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == settings.TWOFOLD.public_url
    assert location.path == "/auth/forward/start"
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def at_aal2(client: Client, membership) -> Client:
    return freshly_signed_in(client, membership, second_factor="sms")


def test_forward_auth_answers_200_with_the_member_in_headers(member, path):
    client = at_aal2(Client(), member)
    answer = client.get(CHECK)
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer["X-Twofold-User"] == str(member.user.pk)
    assert answer["X-Twofold-Email"] == member.user.email
    assert answer["X-Twofold-Account"] == str(member.organization_id)
    assert answer["X-Twofold-Account-Name"] == member.organization.name
    assert answer["X-Twofold-Role"] == "member"
    assert answer["X-Twofold-Acr"] == AAL2
    assert answer["X-Twofold-Amr"] == "pwd sms"
    assert abs(int(answer["X-Twofold-Auth-Time"]) - time.time()) < 5
    assert answer["Cache-Control"] == "no-store"  # a decision for this request only


@pytest.mark.parametrize(
    ("query", "how"),
    [("", "aal2"), ("?aal=2", "aal1"), ("?aal=2", "aal2"), ("?account=999999", "aal2"), ("", "")],
)
def test_short_path_answers_as_the_full_stack_with_the_same_headers(member, settings, query, how):
    client = at_aal2(Client(), member) if how == "aal2" else Client()
    if how == "aal1":
        freshly_signed_in(client, member)
    assert early(client, query, **NGINX) is not None
    short = client.get(CHECK + query, headers={"X-Original-URL": APP})
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != SHORT_PATH]
    full = client.get(CHECK + query, headers={"X-Original-URL": APP})
    assert (short.status_code, short.content) == (full.status_code, full.content)
    # The same headers, but each request has an id of its own.
    assert {**short.headers, "X-Request-ID": ""} == {**full.headers, "X-Request-ID": ""}


def test_forward_auth_reads_the_session_then_the_member_and_writes_nothing(member, session_engine):
    client = at_aal2(Client(), member)
    stored = dict(client.session.items())
    assert early(client, "?aal=2&max_age=300") is not None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get(f"{CHECK}?aal=2&max_age=300").status_code == 200
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # The session (a cache read with Redis), then user, membership and account in one query.
    assert set(statements) == {"SELECT"}, statements
    assert len(statements) <= 2 * 3
    assert dict(client.session.items()) == stored
    assert "Set-Cookie" not in client.get(CHECK).headers


def test_forward_auth_writes_nothing_for_a_signed_out_request(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = Client().get(CHECK, headers={"X-Original-URL": APP})
    assert answer.status_code == 401
    assert "Set-Cookie" not in answer.headers


def test_a_signed_out_request_gets_401_and_the_sign_in_link_back_to_the_app(db, path):
    answer = Client().get(f"{CHECK}?aal=2&max_age=600", headers={"X-Original-URL": APP})
    assert answer.status_code == 401
    # RFC 6750 section 3: no error code for a request without any authentication.
    assert answer["WWW-Authenticate"] == 'Bearer realm="Twofold"'
    assert sign_in_link(answer) == {"rd": APP, "aal": "2", "max_age": "600"}


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.test",
         "X-Forwarded-Uri": "/reports?month=11&year=2026", "X-Forwarded-Method": "GET"},
        {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "app.example.test, inner",
         "X-Forwarded-Uri": "/reports?month=11&year=2026"},
    ],
    ids=["traefik", "caddy behind another proxy"],
)  # fmt: skip
def test_traefik_and_caddy_give_the_original_address_in_x_forwarded_headers(db, path, headers):
    answer = Client().get(CHECK, headers=headers)
    assert sign_in_link(answer)["rd"] == APP


def test_without_the_original_address_the_sign_in_link_has_no_way_back(db, path):
    assert sign_in_link(Client().get(CHECK)) == {}


def test_redirect_1_sends_the_browser_to_the_sign_in_page_for_traefik_and_caddy(member, path):
    answer = Client().get(f"{CHECK}?redirect=1", headers={"X-Original-URL": APP})
    assert answer.status_code == 302
    assert sign_in_link(answer) == {"rd": APP}
    stepping_up = freshly_signed_in(Client(), member).get(f"{CHECK}?aal=2&redirect=1")
    assert stepping_up.status_code == 302
    assert sign_in_link(stepping_up) == {"aal": "2"}


def test_rfc_9470_an_aal1_session_asking_aal2_gets_the_step_up_challenge(member, path):
    client = freshly_signed_in(Client(), member)  # the password only
    assert client.get(CHECK).status_code == 200
    answer = client.get(f"{CHECK}?aal=2", headers={"X-Original-URL": APP})
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A stronger or more recent authentication is required", '
        f'acr_values="{AAL2}"'
    )
    assert sign_in_link(answer) == {"rd": APP, "aal": "2"}
    assert "X-Twofold-User" not in answer.headers


def test_an_aal2_session_meets_aal2(member, path):
    answer = at_aal2(Client(), member).get(f"{CHECK}?aal=2")
    assert (answer.status_code, answer["X-Twofold-Acr"]) == (200, AAL2)


def test_a_remembered_browser_signs_in_at_aal1_and_is_asked_the_second_factor(member, path):
    client = signed_in(Client(), member)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time()},
        {"method": "remembered_device", "at": time.time()},
    ]
    session["account_authentication_methods_user"] = str(member.user.pk)
    session.save()
    assert client.get(CHECK)["X-Twofold-Amr"] == "pwd remembered"
    assert client.get(f"{CHECK}?aal=2").status_code == 401


def test_rfc_9470_a_session_older_than_max_age_gets_the_challenge_with_max_age(member, path):
    client = age_authentication(at_aal2(Client(), member), 600)
    assert client.get(f"{CHECK}?max_age=900").status_code == 200
    answer = client.get(f"{CHECK}?aal=2&max_age=300")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].endswith(f'acr_values="{AAL2}", max_age=300')
    assert client.get(f"{CHECK}?max_age=300").status_code == 401


def test_max_age_counts_from_the_last_authentication_a_re_authentication_included(member, path):
    client = age_authentication(at_aal2(Client(), member), 600)
    session = client.session
    records = session["account_authentication_methods"]
    records.append({"method": "password", "at": time.time(), "reauthenticated": True})
    session["account_authentication_methods"] = records
    session.save()
    assert client.get(f"{CHECK}?aal=2&max_age=60").status_code == 200


def test_a_session_without_any_recorded_authentication_never_meets_max_age(member, path):
    client = signed_in(Client(), member)  # as a sign-up with email verification leaves it
    assert client.get(CHECK).status_code == 200
    assert "X-Twofold-Auth-Time" not in client.get(CHECK).headers
    assert client.get(f"{CHECK}?max_age=86400").status_code == 401


def test_account_asks_for_the_members_of_that_account_only(member, other_administrator, path):
    client = at_aal2(Client(), member)
    assert client.get(f"{CHECK}?account={member.organization_id}").status_code == 200
    other = client.get(f"{CHECK}?account={other_administrator.organization_id}")
    assert other.status_code == 403  # signing in again would not help: no sign-in link
    assert "Location" not in other.headers
    assert "X-Twofold-User" not in other.headers


def test_another_accounts_member_is_forbidden_before_any_step_up(member, other_administrator):
    client = freshly_signed_in(Client(), member)
    answer = client.get(f"{CHECK}?aal=2&account={other_administrator.organization_id}")
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "query", ["?aal=3", "?aal=aal2", "?max_age=-5", "?max_age=1h", "?account=acme", "?redirect=yes"]
)
def test_a_misconfigured_check_address_is_a_400_that_says_why(member, query):
    client = at_aal2(Client(), member)
    assert early(client, query) is None
    answer = client.get(CHECK + query)
    assert answer.status_code == 400
    assert b"misconfigured" in answer.content


def test_deactivated_member_is_refused_at_once(member, administrator, session_engine):
    client = at_aal2(Client(), member)
    assert client.get(CHECK).status_code == 200
    deactivate_member(administrator, member.pk)
    assert early(client) is None
    assert client.get(CHECK).status_code == 401


def test_deactivated_flag_alone_is_refused(member, session_engine):
    client = at_aal2(Client(), member)
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])
    assert early(client) is None
    assert client.get(CHECK).status_code == 401


def test_ended_session_is_refused_at_once(client, member, session_engine):
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    assert client.get(CHECK).status_code == 200
    assert end_all_sessions(member.user) == 1
    assert early(client) is None
    assert client.get(CHECK).status_code == 401


def test_signed_out_session_is_refused(client, member):
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stolen.get(CHECK).status_code == 401


def test_asvs_7_3_1_expired_idle_session_is_refused_and_ended(member, session_engine):
    client = at_aal2(Client(), member)
    now = time.time()
    session = client.session
    session[timeouts.LAST_SEEN_AT] = now - settings.TWOFOLD_SESSION_IDLE_TIMEOUT - 5
    session.save()
    key = session.session_key
    assert early(client) is None
    assert client.get(CHECK).status_code == 401
    assert not SessionStore().exists(key)


def test_asvs_7_3_2_session_past_its_absolute_lifetime_is_refused(member):
    client = at_aal2(Client(), member)
    session = client.session
    session[timeouts.SIGNED_IN_AT] = time.time() - settings.SESSION_COOKIE_AGE - 5
    session.save()
    assert early(client) is None
    assert client.get(CHECK).status_code == 401


def test_last_seen_due_is_saved_by_the_full_stack_once_then_the_short_path_answers(member):
    client = at_aal2(Client(), member)
    session = client.session
    session[timeouts.LAST_SEEN_AT] = time.time() - timeouts.SEEN_RESOLUTION - 5
    session.save()
    assert early(client) is None
    assert client.get(CHECK).status_code == 200
    assert time.time() - client.session[timeouts.LAST_SEEN_AT] < 5
    assert early(client) is not None


def test_password_changed_elsewhere_ends_the_check(member):
    client = at_aal2(Client(), member)
    member.user.set_password("a brand new passphrase 42")
    member.user.save()
    assert early(client) is None
    assert client.get(CHECK).status_code == 401


def test_signed_in_without_an_account_is_forbidden(member):
    client = at_aal2(Client(), member)
    member.delete()
    assert early(client) is None
    assert client.get(CHECK).status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "delete", "head", "options"])
def test_every_method_is_checked_as_nginx_keeps_the_original_one(member, path, method):
    client = Client(enforce_csrf_checks=True)
    at_aal2(client, member)
    answer = getattr(client, method)(CHECK)
    assert answer.status_code == 200  # never a CSRF refusal: the check changes nothing
    assert answer["X-Twofold-User"] == str(member.user.pk)


def test_host_not_allowed_is_refused_before_any_read(member, django_assert_num_queries):
    client = at_aal2(Client(), member)
    with django_assert_num_queries(0), pytest.raises(DisallowedHost):
        early(client, HTTP_HOST="evil.test")
    with pytest.raises(DisallowedHost):
        early(Client(), HTTP_HOST="evil.test")


def test_text_headers_are_percent_encoded_utf8_so_nothing_can_be_injected(member, path):
    organization = member.organization
    organization.name = "Zürich & Genève 100%\r\nX-Twofold-Role: administrator"
    organization.save()
    answer = at_aal2(Client(), member).get(CHECK)
    assert answer["X-Twofold-Account-Name"] == (
        "Z%C3%BCrich & Gen%C3%A8ve 100%25%0D%0AX-Twofold-Role: administrator"
    )
    assert answer["X-Twofold-Role"] == "member"


def test_an_app_session_token_is_left_to_the_full_stack(member):
    client = at_aal2(Client(), member)
    assert early(client, HTTP_X_SESSION_TOKEN="whatever") is None


def test_a_turned_away_request_is_the_checks_answer_not_a_logged_warning(member, path, caplog):
    client = freshly_signed_in(Client(), member)
    with caplog.at_level("WARNING", logger="django.request"):
        assert Client().get(CHECK).status_code == 401
        assert client.get(f"{CHECK}?aal=2").status_code == 401
        assert client.get(f"{CHECK}?account=999999").status_code == 403
    assert caplog.records == []
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get(f"{CHECK}?aal=9").status_code == 400  # a misconfiguration is logged
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_each_ask_is_read_alike_however_often_and_however_long(member, path):
    client = freshly_signed_in(Client(), member)  # aal1
    for _ in range(2):
        assert client.get(f"{CHECK}?max_age=300").status_code == 200
        assert client.get(f"{CHECK}?aal=2&max_age=300").status_code == 401
        assert client.get(f"{CHECK}?aal=2&max_age=x").status_code == 400
    padded = f"{CHECK}?max_age={'0' * 300}300"  # past what is cached, and past 10 digits
    assert client.get(padded).status_code == 400


@pytest.mark.parametrize(
    "query", ["?aal=2&aal=1", "?aal=2&month=11", "?month=11", "?aal=2&max_age=60&max_age=9999"]
)
def test_a_proxy_passing_the_apps_query_on_is_refused_never_obeyed(member, path, query):
    answer = freshly_signed_in(Client(), member).get(CHECK + query)
    assert answer.status_code == 400
    assert b"does the proxy pass the application's query string on?" in answer.content
