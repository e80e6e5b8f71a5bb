"""The pages under /account/sso/ (``web/sso.py``)."""

from django.urls import path

from twofold.web import sso

urlpatterns = [
    path("", sso.sso_page, name="account_sso"),
    path("settings", sso.save_settings, name="account_sso_settings"),
    path("connections/", sso.add_connection, name="account_sso_connections"),
    path("connections/<int:pk>/", sso.connection_page, name="account_sso_connection"),
    path(
        "connections/<int:pk>/delete", sso.delete_connection, name="account_sso_connection_delete"
    ),
    path("connections/<int:pk>/test", sso.test_connection, name="account_sso_connection_test"),
    path("domains/", sso.add_domain, name="account_sso_domains"),
    path("domains/<int:pk>", sso.change_domain, name="account_sso_domain"),
    path("domains/<int:pk>/remove", sso.remove_domain, name="account_sso_domain_remove"),
]
