"""Who may claim an email domain for an organization.

A verified domain routes people: with domain join AUTO, everyone who verifies an address at
it joins the organization. So an admin may add only the domain of their own verified email
address, and never a public mail provider's; the deployment's operator (``authgate admin
org-domains``) may add any domain after checking ownership out of band.
"""

from __future__ import annotations

from authgate.errors import Forbidden, ValidationFailed
from authgate.identity.emails import domain_of, normalise_domain
from authgate.identity.models import User

PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
        "zoho.com",
        "fastmail.com",
        "tutanota.com",
    }
)


def normalise_domains(domains: list[str]) -> tuple[str, ...]:
    """Sorted, de-duplicated, validated domains."""
    if len(domains) > 50:
        raise ValidationFailed("an organization can verify at most 50 domains")
    return tuple(sorted({normalise_domain(d) for d in domains}))


def check_admin_claims(current: tuple[str, ...], wanted: tuple[str, ...], admin: User) -> None:
    """An admin may keep or drop any domain, but add only their own email's domain."""
    for domain in set(wanted) - set(current):
        if domain in PUBLIC_MAIL_DOMAINS:
            raise ValidationFailed(f"{domain} is a public mail provider and cannot be verified")
        if not admin.email_verified or domain_of(admin.email) != domain:
            raise Forbidden(
                f"you can verify only your own email's domain; ask the deployment's operator to "
                f"add {domain} with `authgate admin org-domains`"
            )
