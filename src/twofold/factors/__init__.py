"""Second factors and the account's 2FA policy. One sub-package per factor; the methods by name
(``methods``), how each is challenged (``challenges``), which a member has (``member_factors``)."""
