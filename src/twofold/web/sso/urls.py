"""The single sign-on pages: the account's SSO settings (under /account/sso/), and the sign-in
side routed before allauth's URLs: the OIDC callback and the SAML ACS with Twofold's checks, and
"Sign in with SSO"."""

from django.urls import path

from twofold.web.sso import acs, oidc_callback, settings, sign_in

urlpatterns = [
    path("", settings.sso_page, name="account_sso"),
    path("settings", settings.save_settings, name="account_sso_settings"),
    path("connections/", settings.add_connection, name="account_sso_connections"),
    path("connections/<int:pk>/", settings.connection_page, name="account_sso_connection"),
    path(
        "connections/<int:pk>/delete",
        settings.delete_connection,
        name="account_sso_connection_delete",
    ),
    path("connections/<int:pk>/test", settings.test_connection, name="account_sso_connection_test"),
    path("domains/", settings.add_domain, name="account_sso_domains"),
    path("domains/<int:pk>", settings.change_domain, name="account_sso_domain"),
    path("domains/<int:pk>/remove", settings.remove_domain, name="account_sso_domain_remove"),
    path("domains/<int:pk>/verify", settings.verify_domain, name="account_sso_domain_verify"),
]

oidc_urlpatterns = [
    path("<str:provider_id>/login/callback/", oidc_callback.callback, name="twofold_oidc_callback"),
]

saml_urlpatterns = [
    path("<str:organization_slug>/acs/finish/", acs.finish, name="twofold_saml_finish_acs"),
    path("<str:organization_slug>/sls/", acs.single_logout_not_offered, name="twofold_saml_sls"),
]

sso_urlpatterns = [
    path("", sign_in.sign_in_with_sso, name="sso_sign_in"),
    path("required/", sign_in.sso_required, name="sso_required"),
    path("link/", sign_in.continue_to_link, name="sso_link_at_sign_in"),
]
