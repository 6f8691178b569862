"""Administration of the gateway's registry: containers and apps, secrets write-only.

Only OWNER and ADMIN of the organization act here (another organization's admin gets 404,
a MAKER or USER 403); :meth:`RegistryAdmin.as_operator` serves ``authgate signed-fetch`` on
the server's own machine, where whoever runs it already holds the deployment's keys. Every
change is audited; nothing returned, raised, logged or audited contains a secret. A change
takes effect on this node at once and on others within
:data:`authgate.signedfetch.lookup.CACHE_SECONDS`.
"""

from __future__ import annotations

import secrets

from authgate.crypto.envelope import Envelope, SealedSecret, bind
from authgate.crypto.randomness import new_id
from authgate.errors import Conflict, NotFound
from authgate.identity.access import organization_for_operator, require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import Organization
from authgate.signedfetch.lookup import RegistryLookup
from authgate.signedfetch.ports import RegistryRepository
from authgate.signedfetch.registration import check_app, check_container, check_name
from authgate.signedfetch.registry import (
    App,
    AppSpec,
    Container,
    ContainerKeyType,
    ContainerSpec,
    StoredApp,
    StoredContainer,
    app_context,
    container_context,
)


class RegistryAdmin:
    """Register, replace, list, describe and delete containers and apps."""

    def __init__(
        self,
        deps: IdentityDeps,
        repository: RegistryRepository,
        envelope: Envelope,
        lookup: RegistryLookup,
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._envelope = envelope
        self._lookup = lookup

    def as_operator(self) -> RegistryAdmin:
        """The same registry for the server's operator (``authgate signed-fetch``): every
        method finds the organization by slug alone, without a membership check."""
        return _OperatorRegistryAdmin(self._deps, self._repository, self._envelope, self._lookup)

    # --- containers -----------------------------------------------------------------

    async def put_container(
        self, slug: str, name: str, spec: ContainerSpec, actor: Actor
    ) -> tuple[Container, bool]:
        """Register the container, or replace its key; returns it and whether it is new."""
        org = await self._org(slug, actor)
        check_name("name", name)
        spec = check_container(spec)
        existing = await self._repository.get_container(org.id, name)
        now = self._deps.now()
        old = existing.container if existing else None
        secret_version = old.secret_version + 1 if old else 1
        container = Container(
            id=old.id if old else new_id(),
            org_id=org.id,
            name=name,
            consumer_key=spec.consumer_key,
            instance_id=spec.instance_id or (old.instance_id if old else _new_instance_id()),
            key_type=ContainerKeyType.HMAC if spec.secret is not None else ContainerKeyType.RSA,
            public_key_pem=spec.public_key_pem,
            description=spec.description,
            secret_version=secret_version,
            created_by=old.created_by if old else actor.user_id,
            created_at=old.created_at if old else now,
            updated_at=now,
        )
        sealed = None
        if spec.secret is not None:
            context = container_context(org.id, container.id, secret_version)
            sealed = self._envelope.seal(spec.secret.encode(), bind(*context))
        stored = StoredContainer(container, sealed)
        if old is None:
            await self._repository.add_container(stored)
        else:
            await self._repository.replace_container(stored)
            self._lookup.forget_container(old.consumer_key)
        self._lookup.forget_container(container.consumer_key)
        action = "created" if old is None else "replaced"
        await self._audit_container(f"signed_fetch.container.{action}", actor, container)
        return container, old is None

    async def list_containers(self, slug: str, actor: Actor) -> list[Container]:
        """Every container of the organization."""
        org = await self._org(slug, actor)
        return await self._repository.list_containers(org.id)

    async def get_container(self, slug: str, name: str, actor: Actor) -> Container:
        """One container; NotFound when the organization has none by that name."""
        org = await self._org(slug, actor)
        return (await self._find_container(org.id, name)).container

    async def delete_container(self, slug: str, name: str, actor: Actor) -> None:
        """Remove the container: its signatures stop verifying."""
        org = await self._org(slug, actor)
        container = (await self._find_container(org.id, name)).container
        if not await self._repository.delete_container(container.id):
            raise _container_not_found(name)
        self._lookup.forget_container(container.consumer_key)
        await self._audit_container("signed_fetch.container.deleted", actor, container)

    # --- apps -----------------------------------------------------------------------

    async def put_app(
        self, slug: str, app_id: str, spec: AppSpec, actor: Actor
    ) -> tuple[App, bool]:
        """Register the app, or replace its settings (and secret, when one is given)."""
        org = await self._org(slug, actor)
        check_name("app id", app_id)
        existing = await self._repository.get_app(app_id)
        if existing is not None and existing.app.org_id != org.id:
            raise Conflict(f"the app id '{app_id}' is taken; choose another")
        spec = check_app(spec, secret_required=existing is None)
        now = self._deps.now()
        old = existing.app if existing else None
        new_secret = spec.consumer_secret is not None
        version = (old.secret_version + (1 if new_secret else 0)) if old else 1
        app = App(
            id=old.id if old else new_id(),
            org_id=org.id,
            app_id=app_id,
            app_url=spec.app_url,
            home_servers=spec.home_servers,
            consumer_key=spec.consumer_key,
            signature_method=spec.signature_method,
            description=spec.description,
            secret_version=version,
            created_by=old.created_by if old else actor.user_id,
            created_at=old.created_at if old else now,
            updated_at=now,
        )
        sealed: SealedSecret
        if spec.consumer_secret is not None:
            context = app_context(org.id, app.id, version)
            sealed = self._envelope.seal(spec.consumer_secret.encode(), bind(*context))
        else:
            assert existing is not None
            sealed = existing.sealed
        stored = StoredApp(app, sealed)
        if old is None:
            await self._repository.add_app(stored)
        else:
            await self._repository.replace_app(stored)
        self._lookup.forget_app(app_id)
        await self._audit_app(
            f"signed_fetch.app.{'created' if old is None else 'replaced'}", actor, app
        )
        return app, old is None

    async def list_apps(self, slug: str, actor: Actor) -> list[App]:
        """Every app of the organization."""
        org = await self._org(slug, actor)
        return await self._repository.list_apps(org.id)

    async def get_app(self, slug: str, app_id: str, actor: Actor) -> App:
        """One app; NotFound when the organization has none by that id."""
        org = await self._org(slug, actor)
        return (await self._find_app(org.id, app_id)).app

    async def delete_app(self, slug: str, app_id: str, actor: Actor) -> None:
        """Remove the app: the gateway stops forwarding to its home servers."""
        org = await self._org(slug, actor)
        app = (await self._find_app(org.id, app_id)).app
        if not await self._repository.delete_app(app.id):
            raise _app_not_found(app_id)
        self._lookup.forget_app(app_id)
        await self._audit_app("signed_fetch.app.deleted", actor, app)

    # --- helpers --------------------------------------------------------------------

    async def _org(self, slug: str, actor: Actor) -> Organization:
        """The organization, once the actor is known to be its OWNER or ADMIN."""
        org, _ = await require_admin(self._deps, slug, actor)
        return org

    async def _find_container(self, org_id: str, name: str) -> StoredContainer:
        check_name("name", name)
        found = await self._repository.get_container(org_id, name)
        if found is None:
            raise _container_not_found(name)
        return found

    async def _find_app(self, org_id: str, app_id: str) -> StoredApp:
        check_name("app id", app_id)
        found = await self._repository.get_app(app_id)
        if found is None or found.app.org_id != org_id:
            raise _app_not_found(app_id)
        return found

    async def _audit_container(self, action: str, actor: Actor, container: Container) -> None:
        await self._deps.audit(
            action,
            actor,
            org_id=container.org_id,
            subject=container.name,
            consumer_key=container.consumer_key,
            instance_id=container.instance_id,
            key_type=container.key_type.value,
            version=str(container.secret_version),
        )

    async def _audit_app(self, action: str, actor: Actor, app: App) -> None:
        await self._deps.audit(
            action,
            actor,
            org_id=app.org_id,
            subject=app.app_id,
            consumer_key=app.consumer_key,
            home_servers=" ".join(app.home_servers),
            version=str(app.secret_version),
        )


class _OperatorRegistryAdmin(RegistryAdmin):
    """:class:`RegistryAdmin` for the operator: no membership stands behind the CLI."""

    async def _org(self, slug: str, actor: Actor) -> Organization:
        return await organization_for_operator(self._deps, slug)


def _new_instance_id() -> str:
    # Globally unique and free of '@', as an owner id's suffix must be.
    return secrets.token_hex(16)


def _container_not_found(name: str) -> NotFound:
    return NotFound(f"container '{name}' not found; list them with GET .../signed-fetch/containers")


def _app_not_found(app_id: str) -> NotFound:
    return NotFound(f"app '{app_id}' not found; list them with GET .../signed-fetch/apps")
