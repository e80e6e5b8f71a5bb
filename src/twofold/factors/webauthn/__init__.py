"""Security keys and passkeys (W3C WebAuthn Level 2) as second factors, and passkey sign-in."""
