"""Sign-in throttling: per (account, IP), per IP, and account-wide at ten times the limit.

Counters are the real in-process :class:`MemoryAttemptCounter` on a controllable clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from authgate.errors import InvalidCredentials, TooManyRequests
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import User
from authgate.identity.signin import Authenticator
from authgate.identity.throttle import ACCOUNT_WIDE_FACTOR, SignInThrottle
from authgate.store.attempts import MemoryAttemptCounter

ACCOUNT_LIMIT = 3
IP_LIMIT = 5
WINDOW = 60
VICTIM = "victim@example.com"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingCounter(MemoryAttemptCounter):
    """The memory counter, remembering which keys were touched."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.hits: list[str] = []
        self.resets: list[str] = []

    async def hit(self, key: str, window: int) -> int:
        self.hits.append(key)
        return await super().hit(key, window)

    async def reset(self, key: str) -> None:
        self.resets.append(key)
        await super().reset(key)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def counter(clock: Clock) -> RecordingCounter:
    return RecordingCounter(clock)


@pytest.fixture
def throttle(counter: RecordingCounter) -> SignInThrottle:
    return SignInThrottle(counter, account_limit=ACCOUNT_LIMIT, ip_limit=IP_LIMIT, window=WINDOW)


async def _fail(throttle: SignInThrottle, email: str, ip: str | None, times: int = 1) -> None:
    for _ in range(times):
        await throttle.failed(email, ip)


async def _blocked(throttle: SignInThrottle, email: str, ip: str | None) -> bool:
    refused: TooManyRequests | None = None
    try:
        await throttle.check(email, ip)
    except TooManyRequests as exc:
        refused = exc
    if refused is None:
        return False
    assert refused.retry_after == WINDOW
    assert refused.details == {"retry_after": WINDOW}
    assert refused.status == 429
    return True


async def _attack(throttle: SignInThrottle, email: str, ip: str, attempts: int) -> int:
    """An attacker who keeps trying, as sign-in does: check first, count the failure after."""
    landed = 0
    for _ in range(attempts):
        if await _blocked(throttle, email, ip):
            continue
        await throttle.failed(email, ip)
        landed += 1
    return landed


async def test_the_account_ip_pair_is_limited(throttle: SignInThrottle) -> None:
    await _fail(throttle, VICTIM, "192.0.2.1", ACCOUNT_LIMIT - 1)
    assert not await _blocked(throttle, VICTIM, "192.0.2.1")
    await _fail(throttle, VICTIM, "192.0.2.1")
    assert await _blocked(throttle, VICTIM, "192.0.2.1")
    # The same account from elsewhere, and another account from here, are not blocked.
    assert not await _blocked(throttle, VICTIM, "198.51.100.7")
    assert not await _blocked(throttle, "other@example.com", "192.0.2.1")


async def test_an_ip_is_limited_across_accounts(throttle: SignInThrottle) -> None:
    for n in range(IP_LIMIT):
        assert not await _blocked(throttle, f"user{n}@example.com", "203.0.113.9")
        await _fail(throttle, f"user{n}@example.com", "203.0.113.9")
    # Spraying one password over many accounts: every account is now refused from this IP.
    assert await _blocked(throttle, "fresh@example.com", "203.0.113.9")
    assert not await _blocked(throttle, "fresh@example.com", "203.0.113.10")


async def test_the_account_wide_limit_is_ten_times_the_pair_limit(
    throttle: SignInThrottle,
) -> None:
    assert ACCOUNT_WIDE_FACTOR == 10
    account_wide = ACCOUNT_LIMIT * ACCOUNT_WIDE_FACTOR
    for n in range(account_wide - 1):
        await _fail(throttle, VICTIM, f"10.0.{n}.1")
    assert not await _blocked(throttle, VICTIM, "198.51.100.7")
    await _fail(throttle, VICTIM, "10.1.0.1")
    assert await _blocked(throttle, VICTIM, "198.51.100.7")
    assert await _blocked(throttle, VICTIM, None)
    assert not await _blocked(throttle, "other@example.com", "198.51.100.7")


async def test_without_an_ip_only_the_account_wide_counter_applies(
    throttle: SignInThrottle, counter: RecordingCounter
) -> None:
    await _fail(throttle, VICTIM, None, ACCOUNT_LIMIT * ACCOUNT_WIDE_FACTOR - 1)
    assert not await _blocked(throttle, VICTIM, None)
    assert len(set(counter.hits)) == 1
    await _fail(throttle, VICTIM, None)
    assert await _blocked(throttle, VICTIM, None)


async def test_success_clears_the_pair_only(throttle: SignInThrottle) -> None:
    ip = "192.0.2.1"
    await _fail(throttle, VICTIM, ip, ACCOUNT_LIMIT - 1)
    await throttle.succeeded(VICTIM, ip)
    await _fail(throttle, VICTIM, ip, ACCOUNT_LIMIT - 1)
    assert not await _blocked(throttle, VICTIM, ip)
    # The IP counter kept counting across the success: 4 so far, the fifth blocks the IP.
    await throttle.succeeded(VICTIM, ip)
    await _fail(throttle, VICTIM, ip)
    assert await _blocked(throttle, VICTIM, ip)
    assert await _blocked(throttle, "other@example.com", ip)


async def test_success_from_one_ip_does_not_clear_another_ips_pair(
    throttle: SignInThrottle,
) -> None:
    await _fail(throttle, VICTIM, "192.0.2.1", ACCOUNT_LIMIT)
    await throttle.succeeded(VICTIM, "198.51.100.7")
    assert await _blocked(throttle, VICTIM, "192.0.2.1")


async def test_an_attacker_at_one_ip_does_not_lock_out_the_victim_at_another(
    throttle: SignInThrottle,
) -> None:
    landed = await _attack(throttle, VICTIM, "203.0.113.66", attempts=1000)
    assert landed == ACCOUNT_LIMIT
    assert await _blocked(throttle, VICTIM, "203.0.113.66")
    # The victim signs in from home without being throttled, again and again.
    for _ in range(ACCOUNT_LIMIT - 1):
        assert not await _blocked(throttle, VICTIM, "198.51.100.7")
        await throttle.failed(VICTIM, "198.51.100.7")  # a typo
    assert not await _blocked(throttle, VICTIM, "198.51.100.7")
    await throttle.succeeded(VICTIM, "198.51.100.7")


async def test_only_a_distributed_attack_reaches_the_account_wide_limit(
    throttle: SignInThrottle,
) -> None:
    account_wide = ACCOUNT_LIMIT * ACCOUNT_WIDE_FACTOR
    landed = 0
    for n in range(ACCOUNT_WIDE_FACTOR - 1):
        landed += await _attack(throttle, VICTIM, f"203.0.113.{n}", attempts=100)
    assert landed == account_wide - ACCOUNT_LIMIT
    assert not await _blocked(throttle, VICTIM, "198.51.100.7")
    landed += await _attack(throttle, VICTIM, "203.0.113.200", attempts=100)
    assert landed == account_wide
    assert await _blocked(throttle, VICTIM, "198.51.100.7")


async def test_counters_end_with_the_window(throttle: SignInThrottle, clock: Clock) -> None:
    await _fail(throttle, VICTIM, "192.0.2.1", ACCOUNT_LIMIT)
    assert await _blocked(throttle, VICTIM, "192.0.2.1")
    clock.advance(WINDOW - 1)
    assert await _blocked(throttle, VICTIM, "192.0.2.1")
    clock.advance(1)
    assert not await _blocked(throttle, VICTIM, "192.0.2.1")


async def test_counter_keys_never_hold_the_email(
    throttle: SignInThrottle, counter: RecordingCounter
) -> None:
    await _fail(throttle, "Secret.Person@example.com", "192.0.2.1")
    assert len(counter.hits) == 3
    for key in counter.hits:
        assert "secret" not in key.lower()
        assert "example" not in key.lower()


async def test_unknown_and_known_emails_are_counted_identically(
    throttle: SignInThrottle, counter: RecordingCounter
) -> None:
    # The throttle has no idea which accounts exist: the same keys, the same counts.
    await _fail(throttle, "exists@example.com", "192.0.2.1", ACCOUNT_LIMIT)
    known = list(counter.hits)
    counter.hits.clear()
    await _fail(throttle, "nobody@example.com", "192.0.2.1", ACCOUNT_LIMIT)
    unknown = list(counter.hits)
    assert len(known) == len(unknown)
    assert [k.split(":")[:2] for k in known] == [k.split(":")[:2] for k in unknown]


# --- Through sign-in: an unknown email and a wrong password fail and throttle alike -------


class FakeHasher:
    def __init__(self) -> None:
        self.burned = 0
        self.verified = 0

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return password_hash == f"hash:{password}"

    async def burn(self) -> None:
        self.burned += 1

    def needs_rehash(self, password_hash: str) -> bool:
        return False

    async def hash(self, password: str) -> str:
        return f"hash:{password}"


class FakeUsers:
    def __init__(self, *users: User) -> None:
        self.by_email = {user.email: user for user in users}

    async def get_by_email(self, email: str) -> User | None:
        return self.by_email.get(email)


class FakeAudit:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def append(self, event: Any) -> None:
        self.events.append(event)


@pytest.fixture
def authenticator(throttle: SignInThrottle, clock: Clock) -> tuple[Authenticator, FakeHasher]:
    user = User(
        id="user-1",
        email="exists@example.com",
        display_name="Exists",
        password_hash="hash:the right password",
        disabled=False,
        email_verified=True,
        created_at=clock(),
    )
    hasher = FakeHasher()
    store = SimpleNamespace(users=FakeUsers(user), audit=FakeAudit())
    deps = IdentityDeps(
        store=store,
        hasher=hasher,
        mailer=None,  # type: ignore[arg-type]
        keyed=None,  # type: ignore[arg-type]
        sessions=None,  # type: ignore[arg-type]
        clock=clock,
        public_url="https://id.example.com",
        invite_ttl=3600,
        verification_ttl=3600,
        reset_ttl=3600,
    )
    return Authenticator(deps, throttle), hasher


async def _sign_in(authenticator: Authenticator, email: str, ip: str) -> Exception:
    with pytest.raises((InvalidCredentials, TooManyRequests)) as caught:
        await authenticator.authenticate(email, "a wrong password", Actor(None, ip))
    return caught.value


async def test_unknown_user_and_wrong_password_fail_and_throttle_alike(
    authenticator: tuple[Authenticator, FakeHasher], counter: RecordingCounter
) -> None:
    signin, hasher = authenticator
    outcomes: dict[str, list[tuple[str, str]]] = {}
    for email, ip in (("exists@example.com", "192.0.2.1"), ("nobody@example.com", "192.0.2.2")):
        counter.hits.clear()
        errors = [await _sign_in(signin, email, ip) for _ in range(ACCOUNT_LIMIT + 2)]
        outcomes[email] = [(type(e).__name__, str(e)) for e in errors]
        assert len(counter.hits) == 3 * ACCOUNT_LIMIT
    assert outcomes["exists@example.com"] == outcomes["nobody@example.com"]
    assert [name for name, _ in outcomes["nobody@example.com"]] == (
        ["InvalidCredentials"] * ACCOUNT_LIMIT + ["TooManyRequests"] * 2
    )
    # The unknown email spent one password verification's time on every counted attempt.
    assert hasher.burned == ACCOUNT_LIMIT
    assert hasher.verified == ACCOUNT_LIMIT


async def test_sign_in_counts_by_normalised_email(
    authenticator: tuple[Authenticator, FakeHasher],
) -> None:
    signin, _ = authenticator
    for spelling in ("Exists@Example.com", "EXISTS@EXAMPLE.COM", " exists@example.com "):
        error = await _sign_in(signin, spelling, "192.0.2.1")
        assert isinstance(error, InvalidCredentials)
    # Case variants are one account: the pair limit is reached.
    assert isinstance(await _sign_in(signin, "exists@example.COM", "192.0.2.1"), TooManyRequests)
