"""Home-realm discovery: which IdPs serve an email's domain, and whether a password still does.

The domain selects the organizations that verified it, and of those the enabled IdPs that
serve it (one domain may belong to several organizations, each with several IdPs: the
person chooses). A password remains usable unless such an organization enforces SSO.
Nothing about any user is looked up: the answer is the same for every address at a domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from authgate.federation.directory import IdpDirectory
from authgate.federation.errors import IdpUnavailable
from authgate.federation.metadata import ProviderMetadata
from authgate.federation.models import IdpConfig
from authgate.federation.ports import FederationRepository
from authgate.identity.deps import IdentityDeps
from authgate.identity.emails import domain_of, normalise_email
from authgate.identity.models import Organization


@dataclass(frozen=True, slots=True)
class RealmIdp:
    """One IdP that serves the domain, with what a device needs to run its loop (None when
    the IdP's metadata cannot be read right now)."""

    idp: IdpConfig
    org: Organization
    metadata: ProviderMetadata | None


@dataclass(frozen=True, slots=True)
class Realm:
    """The answer for one email domain."""

    domain: str
    idps: tuple[RealmIdp, ...]
    password_allowed: bool


class HomeRealm:
    """Finds the IdPs of an email's domain."""

    def __init__(
        self, deps: IdentityDeps, repository: FederationRepository, directory: IdpDirectory
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._directory = directory

    async def discover(self, email: str) -> Realm:
        """The IdPs serving the email's domain, in organization then IdP order."""
        domain = domain_of(normalise_email(email))
        orgs = {org.id: org for org in await self._deps.store.orgs.find_by_domain(domain)}
        found: list[RealmIdp] = []
        enforcing = False
        if orgs:
            for idp in await self._repository.list_idps_for_orgs(list(orgs)):
                if not idp.enabled or domain not in idp.domains:
                    continue
                try:
                    metadata: ProviderMetadata | None = await self._directory.metadata(idp)
                except IdpUnavailable:
                    metadata = None
                found.append(RealmIdp(idp, orgs[idp.org_id], metadata))
            for org_id in {entry.org.id for entry in found}:
                settings = await self._repository.get_settings(org_id)
                enforcing = enforcing or (settings is not None and settings.enforce_sso)
        return Realm(domain, tuple(found), password_allowed=not enforcing)
