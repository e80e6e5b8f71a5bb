"""Every page's address. ``before_allauth`` is mounted ahead of allauth's own ``accounts/`` pages
(Twofold's second-factor pages, SSO callbacks and session list take their place); ``urlpatterns``
after them."""

from django.urls import URLPattern, URLResolver, include, path

from twofold.web import account, audit, home, language, members, remembered, security, sessions
from twofold.web.idp import applications
from twofold.web.sso import urls as sso_urls

before_allauth: list[URLPattern | URLResolver] = [
    path("accounts/2fa/", include("twofold.web.signin.urls")),
    # Before allauth's: the OIDC callback and the SAML ACS with Twofold's checks.
    path("accounts/oidc/", include(sso_urls.oidc_urlpatterns)),
    path("accounts/saml/", include(sso_urls.saml_urlpatterns)),
    path("accounts/sso/", include(sso_urls.sso_urlpatterns)),
    # Twofold's session list in place of allauth's (which ends sessions without the audit trail).
    path("accounts/sessions/", sessions.session_list),
]

urlpatterns = [
    path("settings/security/2fa/", include("twofold.web.factors.urls")),
    path("account/audit/", audit.audit_log, name="audit_log"),
    path("account/audit/export.csv", audit.audit_export, name="audit_export"),
    path("", home.home, name="home"),
    path("language", language.switch, name="choose_language"),
    path("settings/security/", security.security_settings, name="security_settings"),
    path(
        "settings/security/sso/<int:pk>/link",
        security.link_saml_connection,
        name="security_link_saml_connection",
    ),
    path("settings/sessions/", sessions.session_list, name="sessions"),
    path(
        "settings/security/devices/<int:pk>/forget",
        remembered.forget,
        name="remembered_device_forget",
    ),
    path(
        "settings/security/devices/forget-all",
        remembered.forget_all,
        name="remembered_devices_forget_all",
    ),
    path("settings/sessions/<int:pk>/end", sessions.end_session, name="sessions_end"),
    path("settings/sessions/end-others", sessions.end_other_sessions, name="sessions_end_others"),
    path(
        "settings/sessions/keep-others", sessions.keep_other_sessions, name="sessions_keep_others"
    ),
    path("account/", account.account_settings, name="account_settings"),
    path("account/security/", account.security_policy, name="account_security_policy"),
    path(
        "account/security/sign-out-members-without-2fa",
        account.sign_out_members_without_two_factor,
        name="account_sign_out_without_two_factor",
    ),
    path("account/sso/", include(sso_urls)),
    path("account/applications/", applications.applications_page, name="account_applications"),
    path(
        "account/applications/<int:pk>/",
        applications.application_page,
        name="account_application",
    ),
    path(
        "account/applications/<int:pk>/secret",
        applications.rotate_secret,
        name="account_application_secret",
    ),
    path(
        "account/applications/<int:pk>/old-secret/end",
        applications.end_old_secret,
        name="account_application_end_old_secret",
    ),
    path(
        "account/applications/<int:pk>/delete",
        applications.delete_application,
        name="account_application_delete",
    ),
    path("account/members/", members.members, name="members"),
    path("account/members/<int:pk>/role", members.change_role, name="member_role"),
    path(
        "account/members/<int:pk>/deactivate",
        members.deactivate_member,
        name="member_deactivate",
    ),
    path(
        "account/members/<int:pk>/reactivate",
        members.reactivate_member,
        name="member_reactivate",
    ),
    path(
        "account/members/<int:pk>/reset-two-factor",
        members.reset_two_factor,
        name="member_reset_two_factor",
    ),
    path(
        "account/invitations/<int:pk>/revoke",
        members.revoke_invitation,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", members.accept_invitation, name="invitation_accept"),
]
