"""The brokered loop: authgate runs the authorization code flow (OpenID Connect Core §3.1)
with the IdP and hands the result to the app as a one-time code redeemed with PKCE.

1. :meth:`BrokeredLogin.start`: the app's redirect URI must be registered (exact match) and
   its PKCE challenge S256. A login transaction records the IdP (and its version), the app's
   redirect URI, state and challenge; the browser goes to the IdP with a fresh ``state``, a
   ``nonce`` and a PKCE challenge of authgate's own, the nonce and verifier derived from the
   state with a server key.
2. :meth:`BrokeredLogin.callback`: the state is single use and names the IdP the login
   started with, so an answer meant for another IdP cannot complete it (mix-up; RFC 9207
   ``iss`` is checked when sent, and required when the IdP promises it). The code is
   exchanged at that IdP only, the ID token validated, the person admitted, and the browser
   sent to the app's redirect URI with a one-time code, the app's state and authgate's
   ``iss`` — or, once the redirect URI is known to be the app's, with the error.
3. :meth:`BrokeredLogin.redeem`: the code is single use, expires within a minute, and is
   bound to the client, the redirect URI and the challenge; a second use ends the session
   the first one started (RFC 9700 §4.2.4).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from authgate.crypto.randomness import new_id, new_secret
from authgate.errors import AuthgateError, InvalidGrant
from authgate.federation.errors import (
    IdpClientRejected,
    IdpUnavailable,
    InvalidLoginRequest,
    InvalidSsoState,
    SsoLoginFailed,
)
from authgate.federation.logins import LoginDeps
from authgate.federation.metadata import ProviderMetadata
from authgate.federation.models import BrokerCode, IdpConfig, LoginKind, LoginTransaction
from authgate.federation.provisioning import Admission
from authgate.federation.redirects import check_challenge, is_verifier, with_query
from authgate.identity.deps import Actor
from authgate.tokens.responses import TokenResponse
from authgate.vault.connections import pkce_challenge

LOGIN_TTL = timedelta(minutes=10)
CODE_TTL = timedelta(seconds=60)
MAX_STATE_CHARS = 512
MAX_HINT_CHARS = 254
UNKNOWN_STATE = "this sign-in is unknown, already used or expired; start again from the app"
INVALID_CODE = "the code is invalid, expired or already used; sign in again"
# RFC 6749 §4.1.2.1 errors an IdP may end a login with, as the person should read them.
IDP_ERRORS = {
    "access_denied": "you did not allow the sign-in at your identity provider",
    "login_required": "your identity provider needs you to sign in",
    "interaction_required": "your identity provider needs you to interact",
    "consent_required": "your identity provider needs your consent",
    "temporarily_unavailable": "your identity provider is busy; try again later",
    "server_error": "your identity provider had an error; try again later",
}


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """Where the callback sends the browser: the app (with a code or an error), or, for a
    link, nowhere (a page says the account is linked)."""

    redirect: str | None
    linked: bool = False


class BrokeredLogin:
    """Starts brokered logins, completes them, and redeems their codes."""

    def __init__(self, deps: LoginDeps) -> None:
        self._deps = deps

    def check_redirect(self, client_id: str | None, redirect_uri: str | None) -> str:
        """The app's redirect URI if it is registered for the client (before anything else,
        so that an invalid one is never redirected to)."""
        return self._deps.redirects.check(client_id, redirect_uri)

    async def start(
        self,
        idp_id: str,
        *,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        code_challenge_method: str | None,
        app_state: str | None,
        login_hint: str | None,
        actor: Actor,
    ) -> str:
        """The IdP's authorization URL for a new brokered login."""
        redirect_uri = self.check_redirect(client_id, redirect_uri)
        challenge = check_challenge(code_challenge, code_challenge_method)
        if app_state is not None and (
            len(app_state) > MAX_STATE_CHARS or not app_state.isprintable()
        ):
            raise InvalidLoginRequest(
                f"state must be at most {MAX_STATE_CHARS} printable characters"
            )
        return await self._begin(
            idp_id,
            LoginKind.BROKERED,
            actor,
            login_hint=login_hint,
            client_id=client_id,
            redirect_uri=redirect_uri,
            app_state=app_state,
            code_challenge=challenge,
        )

    async def start_link(self, idp_id: str, user_id: str, actor: Actor) -> str:
        """The IdP's authorization URL for linking an IdP account to the signed-in user."""
        return await self._begin(idp_id, LoginKind.LINK, actor, user_id=user_id)

    async def _begin(
        self,
        idp_id: str,
        kind: LoginKind,
        actor: Actor,
        *,
        login_hint: str | None = None,
        **bound: str | None,
    ) -> str:
        idp = await self._deps.directory.idp(idp_id)
        metadata = await self._deps.directory.metadata(idp)
        state = new_secret()
        now = self._deps.identity.now()
        await self._deps.repository.add_transaction(
            LoginTransaction(
                state_hash=self._deps.derived("state", state),
                kind=kind,
                idp_id=idp.id,
                org_id=idp.org_id,
                idp_version=idp.version,
                created_at=now,
                expires_at=now + LOGIN_TTL,
                **bound,
            )
        )
        params = [
            ("response_type", "code"),
            ("client_id", idp.client_id),
            ("redirect_uri", self._deps.callback_url),
            ("scope", " ".join(idp.scopes)),
            ("state", state),
        ]
        if idp.nonce:
            params.append(("nonce", self._deps.derived("nonce", state)))
        if idp.pkce:
            verifier = self._deps.derived("pkce", state)
            params += [
                ("code_challenge", pkce_challenge(verifier)),
                ("code_challenge_method", "S256"),
            ]
        if login_hint and len(login_hint) <= MAX_HINT_CHARS and login_hint.isprintable():
            params.append(("login_hint", login_hint))
        await self._deps.identity.audit(
            "sso.start", actor, org_id=idp.org_id, subject=idp.id, kind=kind.value
        )
        return with_query(metadata.authorization_endpoint, params)

    async def callback(
        self, *, state: str, code: str | None, iss: str | None, error: str | None, actor: Actor
    ) -> CallbackResult:
        """Complete a login from the IdP's answer (RFC 6749 §4.1.2)."""
        found = None
        if state and len(state) <= MAX_STATE_CHARS:
            found = await self._deps.repository.take_transaction(
                self._deps.derived("state", state), self._deps.identity.now()
            )
        if found is None:
            raise InvalidSsoState(UNKNOWN_STATE)
        try:
            if error is not None:
                raise SsoLoginFailed(
                    IDP_ERRORS.get(error, "your identity provider refused the sign-in")
                )
            if not code:
                raise SsoLoginFailed("the identity provider's answer has no code; start again")
            idp = await self._idp_of(found)
            metadata = await self._deps.directory.metadata(idp)
            _check_iss(idp, metadata, iss)
            answer = await self._deps.client.exchange_code(
                metadata.token_endpoint,
                client_id=idp.client_id,
                client_secret=self._deps.directory.client_secret(idp),
                secret_in_body=metadata.secret_in_body,
                code=code,
                redirect_uri=self._deps.callback_url,
                code_verifier=self._deps.derived("pkce", state) if idp.pkce else None,
            )
            nonce = self._deps.derived("nonce", state) if idp.nonce else None
            claims = await self._deps.validated(
                idp, metadata, answer.id_token, audience=idp.client_id, nonce=nonce
            )
            if found.kind is LoginKind.LINK:
                assert found.user_id is not None
                await self._deps.provisioner.link(idp, claims, found.user_id, actor)
                return CallbackResult(None, linked=True)
            admission = await self._deps.provisioner.admit(idp, claims, actor)
        except AuthgateError as exc:
            await self._deps.identity.audit(
                "sso.callback", actor, org_id=found.org_id, subject=found.idp_id,
                outcome="failure", error=exc.code,
            )  # fmt: skip
            if found.kind is not LoginKind.BROKERED:
                raise
            return CallbackResult(self._app_error(found, exc))
        return CallbackResult(await self._hand_over(found, idp, admission))

    async def _idp_of(self, found: LoginTransaction) -> IdpConfig:
        # A brokered login's admission re-reads the IdP's version; a link reads it here.
        idp = await self._deps.directory.version(
            found.idp_id, found.idp_version, fresh=found.kind is LoginKind.LINK
        )
        if idp is None:
            raise InvalidSsoState(
                "the identity provider's configuration changed during the sign-in; start again"
            )
        return idp

    async def _hand_over(
        self, found: LoginTransaction, idp: IdpConfig, admission: Admission
    ) -> str:
        assert found.client_id is not None
        assert found.redirect_uri is not None
        assert found.code_challenge is not None
        code = new_secret()
        now = self._deps.identity.now()
        await self._deps.repository.add_code(
            BrokerCode(
                code_hash=self._deps.derived("code", code),
                user_id=admission.user.id,
                org_id=admission.org.id,
                idp_id=idp.id,
                idp_version=idp.version,
                client_id=found.client_id,
                redirect_uri=found.redirect_uri,
                code_challenge=found.code_challenge,
                created_at=now,
                expires_at=now + CODE_TTL,
            )
        )
        return with_query(found.redirect_uri, self._app_params(found, [("code", code)]))

    def _app_error(self, found: LoginTransaction, exc: AuthgateError) -> str:
        assert found.redirect_uri is not None
        error = "access_denied"
        if isinstance(exc, IdpUnavailable):
            error = "temporarily_unavailable"
        elif isinstance(exc, IdpClientRejected):
            error = "server_error"
        params = [("error", error), ("error_description", exc.message), ("error_code", exc.code)]
        return with_query(found.redirect_uri, self._app_params(found, params))

    def _app_params(
        self, found: LoginTransaction, params: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        if found.app_state is not None:
            params.append(("state", found.app_state))
        params.append(("iss", self._deps.issuer))
        return params

    async def redeem(
        self,
        *,
        code: str,
        code_verifier: str | None,
        redirect_uri: str | None,
        client_id: str | None,
        actor: Actor,
    ) -> TokenResponse:
        """authgate's tokens for a one-time code (RFC 6749 §4.1.3 with RFC 7636 §4.6)."""
        session_id = new_id()
        admission, idp_id, client = await self._admitted(
            code, code_verifier, redirect_uri, client_id, session_id, actor
        )
        return await self._deps.sign_in(
            admission, idp_id, actor, client_id=client, session_id=session_id
        )

    async def admit(
        self,
        *,
        code: str,
        code_verifier: str | None,
        redirect_uri: str | None,
        client_id: str | None,
        actor: Actor,
    ) -> tuple[Admission, str]:
        """The person a one-time code vouches for, and the IdP that did, without starting
        a device session: for authgate's own pages, which sign the browser in instead."""
        admission, idp_id, _ = await self._admitted(
            code, code_verifier, redirect_uri, client_id, new_id(), actor
        )
        return admission, idp_id

    async def _admitted(
        self,
        code: str,
        code_verifier: str | None,
        redirect_uri: str | None,
        client_id: str | None,
        session_id: str,
        actor: Actor,
    ) -> tuple[Admission, str, str]:
        if not code or len(code) > MAX_STATE_CHARS:
            raise InvalidGrant(INVALID_CODE)
        code_hash = self._deps.derived("code", code)
        now = self._deps.identity.now()
        found = await self._deps.repository.spend_code(code_hash, now, session_id)
        if found is None:
            await self._replayed(code_hash, actor)
            raise InvalidGrant(INVALID_CODE)
        if found.client_id != client_id or found.redirect_uri != redirect_uri:
            raise InvalidGrant("the code was issued to another client or redirect_uri")
        if not is_verifier(code_verifier) or not hmac.compare_digest(
            pkce_challenge(str(code_verifier)), found.code_challenge
        ):
            raise InvalidGrant("code_verifier does not match the code_challenge (PKCE)")
        view = await self._deps.repository.member_view(found.idp_id, user_id=found.user_id)
        if (
            view is None
            or not view.idp_enabled
            or view.idp_version != found.idp_version
            or view.org.id != found.org_id
            or view.user is None
            or view.user.disabled
            or view.membership is None
            or not view.membership.role.is_active
        ):
            raise InvalidGrant(INVALID_CODE)
        admission = Admission(view.user, view.org, view.membership)
        return admission, found.idp_id, found.client_id

    async def _replayed(self, code_hash: str, actor: Actor) -> None:
        spent = await self._deps.repository.get_code(code_hash)
        if spent is None or spent.used_at is None or spent.session_id is None:
            return
        await self._deps.sessions.end(spent.session_id, actor, "code reused")
        await self._deps.identity.audit(
            "sso.code_reuse", actor, org_id=spent.org_id, subject=spent.user_id, outcome="failure"
        )


def _check_iss(idp: IdpConfig, metadata: ProviderMetadata, iss: str | None) -> None:
    """RFC 9207 §2.4: the answer must come from the IdP the login started with."""
    if iss is None:
        if metadata.iss_parameter:
            raise SsoLoginFailed(
                "the identity provider's answer lacks the iss parameter it promises (RFC 9207); "
                "start again"
            )
        return
    if metadata.is_template:
        expected = {metadata.issuer_for(tenant) for tenant in idp.tenants}
    else:
        expected = {metadata.issuer}
    if iss not in expected:
        raise SsoLoginFailed(
            "the answer comes from another identity provider than the sign-in started with "
            "(iss, RFC 9207); start again"
        )
