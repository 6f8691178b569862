"""Administration of an organization's IdPs and SSO settings; client secrets write-only.

Only OWNER and ADMIN of the organization act here (another organization's admin gets 404,
a MAKER or USER 403); the operator acts through ``authgate idp``. A configuration is checked
against the IdP's metadata before it is stored. Changing or removing one ends every session
it created, and logins and codes in flight with it stop working. Nothing returned, raised,
logged or audited contains the client secret.
"""

from __future__ import annotations

from dataclasses import replace

from authgate.crypto.randomness import new_id
from authgate.federation.directory import IdpDirectory
from authgate.federation.errors import IdpUnavailable, InvalidIdpConfig, UnknownIdp
from authgate.federation.models import IdpConfig, IdpSpec, Provisioning, SsoSettings
from authgate.federation.ports import FederationRepository
from authgate.federation.validation import check_name, check_solutions, check_spec, tenants_for
from authgate.identity.access import organization_for_operator, require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import Organization


class IdpAdmin:
    """Create, replace, list, describe and delete IdPs; read and change SSO settings."""

    def __init__(
        self, deps: IdentityDeps, repository: FederationRepository, directory: IdpDirectory
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._directory = directory

    async def org(self, slug: str, actor: Actor) -> Organization:
        """The organization an OWNER or ADMIN of it acts on."""
        return (await require_admin(self._deps, slug, actor))[0]

    async def org_as_operator(self, slug: str) -> Organization:
        """The organization the operator acts on (``authgate idp``, on the server's machine)."""
        return await organization_for_operator(self._deps, slug)

    async def put(
        self, org: Organization, name: str, spec: IdpSpec, actor: Actor
    ) -> tuple[IdpConfig, bool]:
        """Create the IdP, or replace it (ending its sessions); returns it and whether it is
        new. Without a client secret, a replacement keeps the stored one."""
        check_name(name)
        existing = await self._repository.find_idp(org.id, name)
        spec = check_spec(spec, org, creating=existing is None)
        try:
            metadata = await self._directory.discover(spec.type, spec.issuer, spec.endpoints)
        except IdpUnavailable as exc:
            raise InvalidIdpConfig(
                f"authgate could not read the IdP's metadata ({exc.message}); check the issuer"
            ) from None
        tenants = tenants_for(spec, metadata)
        now = self._deps.now()
        idp_id = existing.id if existing else new_id()
        if spec.client_secret is not None:
            secret_version = existing.secret_version + 1 if existing else 1
            sealed = self._directory.seal_secret(org.id, idp_id, secret_version, spec.client_secret)
        else:
            assert existing is not None  # check_spec requires a secret on creation
            secret_version, sealed = existing.secret_version, existing.secret
        idp = IdpConfig(
            id=idp_id,
            org_id=org.id,
            name=name,
            display_name=spec.display_name or name,
            type=spec.type,
            issuer=spec.issuer,
            client_id=spec.client_id,
            device_client_id=spec.device_client_id,
            scopes=spec.scopes,
            pkce=spec.pkce,
            nonce=spec.nonce,
            domains=spec.domains,
            tenants=tenants,
            endpoints=spec.endpoints,
            enabled=spec.enabled,
            version=existing.version + 1 if existing else 1,
            secret=sealed,
            secret_version=secret_version,
            created_by=existing.created_by if existing else actor.user_id,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        async with self._deps.store.transaction():
            if existing is None:
                await self._repository.create_idp(idp)
            else:
                await self._repository.replace_idp(idp, expected_version=existing.version)
                await self._end_sessions(existing, "identity provider changed", actor)
            await self._audit(
                "sso.idp.created" if existing is None else "sso.idp.replaced", idp, actor
            )
        if existing is not None:
            self._directory.forget(existing)
        return idp, existing is None

    async def idps(self, org: Organization) -> list[IdpConfig]:
        """The organization's IdPs (never a secret)."""
        return await self._repository.list_idps(org.id)

    async def get(self, org: Organization, name: str) -> IdpConfig:
        """One IdP of the organization."""
        found = await self._repository.find_idp(org.id, name) if len(name) <= 63 else None
        if found is None:
            raise UnknownIdp(f"no identity provider '{name[:63]}' in this organization")
        return found

    async def delete(self, org: Organization, name: str, actor: Actor) -> int:
        """Remove the IdP and end the sessions it created; how many sessions ended."""
        idp = await self.get(org, name)
        async with self._deps.store.transaction():
            ended = await self._end_sessions(idp, "identity provider removed", actor)
            if not await self._repository.delete_idp(idp.id):
                raise UnknownIdp(f"no identity provider '{name}' in this organization")
            await self._audit("sso.idp.deleted", idp, actor)
        self._directory.forget(idp)
        return ended

    async def settings(self, org: Organization) -> SsoSettings:
        """The organization's SSO settings (defaults when it saved none)."""
        return await self._repository.get_settings(org.id) or SsoSettings(org.id)

    async def update_settings(
        self,
        org: Organization,
        actor: Actor,
        *,
        provisioning: Provisioning | None = None,
        enforce_sso: bool | None = None,
        solutions: list[str] | None = None,
    ) -> SsoSettings:
        """Change the given settings; enforcing SSO needs an enabled IdP."""
        current = await self.settings(org)
        changed = replace(
            current,
            provisioning=provisioning or current.provisioning,
            enforce_sso=current.enforce_sso if enforce_sso is None else enforce_sso,
            solutions=current.solutions if solutions is None else check_solutions(solutions),
            updated_at=self._deps.now(),
        )
        if changed.enforce_sso and not any(i.enabled for i in await self.idps(org)):
            raise InvalidIdpConfig(
                "enforcing SSO needs an enabled identity provider first, or nobody could sign in"
            )
        await self._repository.put_settings(changed)
        await self._deps.audit(
            "sso.settings",
            actor,
            org_id=org.id,
            provisioning=changed.provisioning.value,
            enforce_sso=str(changed.enforce_sso).lower(),
            solutions=" ".join(changed.solutions),
        )
        return changed

    async def _end_sessions(self, idp: IdpConfig, reason: str, actor: Actor) -> int:
        ended = await self._repository.end_sessions(idp.id, reason, self._deps.now())
        await self._deps.audit(
            "token.revoke",
            actor,
            org_id=idp.org_id,
            subject=idp.id,
            reason=reason,
            sessions=str(ended),
        )
        return ended

    async def _audit(self, action: str, idp: IdpConfig, actor: Actor) -> None:
        await self._deps.audit(
            action,
            actor,
            org_id=idp.org_id,
            subject=idp.name,
            idp_id=idp.id,
            type=idp.type.value,
            issuer=idp.issuer,
            version=str(idp.version),
        )
