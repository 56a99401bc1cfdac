"""The browser's sign-in cookie: a signed, expiring token bound to the key's stored hash."""

from __future__ import annotations

from agent.http.auth import ApiKey, KeyRing, hash_key
from agent.ui.access import COOKIE_MAX_AGE_S, SignIn


def _ring(*keys: str) -> KeyRing:
    return KeyRing([ApiKey(id=f"id-{k}", digest=bytes.fromhex(hash_key(k))) for k in keys])


def test_a_cookie_names_its_key_until_it_expires() -> None:
    sign_in = SignIn(_ring("alpha", "beta"), secret="s3cret")
    cookie = sign_in.cookie("id-alpha", now=1000.0)
    assert "alpha" not in cookie.split(".", 1)[1]  # only the id is readable, never the key
    assert sign_in.cookie_owner(cookie, now=1001.0) == "id-alpha"
    assert sign_in.cookie_owner(cookie, now=1000.0 + COOKIE_MAX_AGE_S + 1) is None


def test_forged_foreign_and_orphaned_cookies_are_refused() -> None:
    sign_in = SignIn(_ring("alpha", "beta"), secret="s3cret")
    cookie = sign_in.cookie("id-alpha", now=1000.0)
    owner, expires, mac = cookie.rsplit(".", 2)
    assert sign_in.cookie_owner(f"id-beta.{expires}.{mac}", now=1001.0) is None  # other key
    assert sign_in.cookie_owner(f"{owner}.{int(expires) + 99}.{mac}", now=1001.0) is None
    assert sign_in.cookie_owner("alpha", now=1001.0) is None  # a raw key is not a cookie
    assert sign_in.cookie_owner(None) is None
    # another instance with the same secret accepts it; with another secret, not
    assert SignIn(_ring("alpha"), secret="s3cret").cookie_owner(cookie, now=1001.0) == "id-alpha"
    assert SignIn(_ring("alpha"), secret="other").cookie_owner(cookie, now=1001.0) is None
    # the key removed from the keys file (or rotated to a new hash): its sign-ins end
    assert SignIn(_ring("beta"), secret="s3cret").cookie_owner(cookie, now=1001.0) is None
