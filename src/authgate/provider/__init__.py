"""authgate as an OAuth 2.0 / OpenID Connect provider for third-party apps (3-legged).

Registered clients, the authorization endpoint's request checks, codes, consents, browser
sessions, ID tokens and userinfo claims. Pure logic over the narrow interfaces of
:mod:`authgate.provider.ports`; the pages and endpoints are in ``authgate.http``.
"""
