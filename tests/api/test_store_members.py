"""Members, keys and the audit trail at store level, on SQLite and (when given) PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from jointwatch.errors import ConflictError, InvalidInputError, NotFoundError
from jointwatch.store.audit import read_audit, record, subject_digest
from jointwatch.store.members import add_member, create_key, find_key, get_member, list_keys, revoke_key
from tests.store.conftest import make_store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = make_store(str(request.param), tmp_path)
    yield engine
    engine.dispose()


def test_members_and_keys(store: Engine) -> None:
    member = add_member(store, "Border Police NL", "NL")
    assert member.country == "nl" and get_member(store, "Border Police NL") == get_member(store, member.id)
    with pytest.raises(ConflictError, match="already exists"):
        add_member(store, "Border Police NL")
    with pytest.raises(InvalidInputError, match="role"):
        create_key(store, member.id, "alice", "superuser")
    key, secret = create_key(store, "Border Police NL", "alice", "analyst")
    assert secret.startswith(f"jw_{key.prefix}_")
    found = find_key(store, secret)
    assert found is not None and found.active and (found.user, found.role, found.member_id) == (
        "alice", "analyst", member.id)
    assert find_key(store, secret + "x") is None
    assert find_key(store, "jw_nothing_here") is None
    revoked = revoke_key(store, key.prefix)
    assert revoked.revoked_at is not None
    again = find_key(store, secret)
    assert again is not None and not again.active
    assert revoke_key(store, secret).revoked_at == revoked.revoked_at  # revoking twice keeps the first time
    with pytest.raises(NotFoundError):
        revoke_key(store, "ffffffffffff")
    assert [k.prefix for k in list_keys(store, member.id)] == [key.prefix]
    with pytest.raises(NotFoundError):
        get_member(store, "nobody")


def test_audit_is_per_member_and_filtered_by_time(store: Engine) -> None:
    a, b = add_member(store, "A"), add_member(store, "B")
    record(store, a.id, "alice", "match", 200, {"name": "Someone"}, {"un": "un-2026-02-27"}, "0 matches")
    digest = subject_digest(store, {"name": "Someone"})  # under the same (current) audit key
    record(store, b.id, "bob", "match", 401)
    rows = read_audit(store, a.id)
    assert [(r.user, r.action, r.status, r.subject_digest, r.list_versions) for r in rows] == [
        ("alice", "match", 200, digest, {"un": "un-2026-02-27"})]
    assert rows[0].at.tzinfo is not None
    assert [r.user for r in read_audit(store)] == ["alice", "bob"]
    assert read_audit(store, a.id, since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(read_audit(store, a.id, since=datetime.now(UTC) - timedelta(minutes=1))) == 1
    assert "Someone" not in digest and len(digest) == 64
