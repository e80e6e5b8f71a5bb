"""Twofold as the OpenID Connect provider of its host applications (docs/identity-provider.md).

Built on django-oauth-toolkit through its extension points: swapped models (``models.py``), a
validator of its own (``validator.py``) and the settings that make its defaults those of RFC 9700
(``config/settings.py``). What a signed-in session proves (its methods, level and time) is carried
from the authorization to the tokens by the grant (``assurance.py``).
"""
