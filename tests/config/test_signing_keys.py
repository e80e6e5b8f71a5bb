"""The signing keys kept in the data directory (config/signing_keys.py): a rotation makes a new
key sign and keeps the old one published until its tokens expired, whole files only, one
rotation at a time."""

from __future__ import annotations

import json
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from twofold.config import private_files, signing_keys
from twofold.config.signing_keys import KeyStoreError

NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
KEEP_FOR = timedelta(minutes=15)


def published_kids(data_dir: Path, now: datetime) -> set[str]:
    keys = signing_keys.load(data_dir, now)
    return {k.kid for k in keys.retired}


def test_the_first_start_generates_the_signing_key_once(tmp_path):
    first = signing_keys.load(tmp_path, NOW)
    assert signing_keys.valid_private_key(first.signing)
    assert signing_keys.load(tmp_path, NOW).signing == first.signing
    assert first.retired == ()


def test_rotate_signing_key_makes_a_new_key_sign_and_keeps_only_the_old_ones_public_half(
    tmp_path,
):
    old = signing_keys.load(tmp_path, NOW).signing
    done = signing_keys.rotate(tmp_path, now=NOW, keep_for=KEEP_FOR)
    after = signing_keys.load(tmp_path, NOW)
    assert signing_keys.kid_of(after.signing) == done.kid != signing_keys.kid_of(old)
    assert after.retired == (done.retired,)
    assert done.retired.kid == signing_keys.kid_of(old)
    assert done.retired.public_key == signing_keys.public_key(old)
    assert (done.retired.retired_at, done.retired.published_until) == (NOW, NOW + KEEP_FOR)
    assert "PRIVATE" not in (tmp_path / signing_keys.RETIRED).read_text()


def test_rotate_signing_key_keeps_the_old_key_published_until_its_tokens_expired(tmp_path):
    signing_keys.load(tmp_path, NOW)
    done = signing_keys.rotate(tmp_path, now=NOW, keep_for=KEEP_FOR)
    assert published_kids(tmp_path, NOW + KEEP_FOR - timedelta(seconds=1)) == {done.retired.kid}
    assert published_kids(tmp_path, NOW + KEEP_FOR) == set()


def test_a_later_rotation_deletes_the_retired_keys_whose_tokens_have_all_expired(tmp_path):
    first = signing_keys.rotate(tmp_path, now=NOW, keep_for=KEEP_FOR)
    second = signing_keys.rotate(tmp_path, now=NOW + timedelta(minutes=5), keep_for=KEEP_FOR)
    assert second.dropped == ()
    assert published_kids(tmp_path, second.retired.retired_at) == {
        first.retired.kid,
        second.retired.kid,
    }
    third = signing_keys.rotate(tmp_path, now=NOW + timedelta(hours=1), keep_for=KEEP_FOR)
    assert {k.kid for k in third.dropped} == {first.retired.kid, second.retired.kid}
    stored = json.loads((tmp_path / signing_keys.RETIRED).read_text())["retired"]
    assert [entry["kid"] for entry in stored] == [third.retired.kid]


def test_the_key_files_are_private_and_replaced_whole(tmp_path):
    signing_keys.rotate(tmp_path, now=NOW, keep_for=KEEP_FOR)
    for name in (signing_keys.SIGNING, signing_keys.RETIRED, signing_keys.LOCK):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [signing_keys.SIGNING, signing_keys.RETIRED, signing_keys.LOCK]
    )  # no temporary file left behind


def test_rotations_at_once_take_turns_and_retire_every_key_that_signed(tmp_path):
    """Without the lock two rotations would both retire the same key, and the new key of one
    would be overwritten unpublished although a worker starting then may have signed with it."""
    original = signing_keys.kid_of(signing_keys.load(tmp_path, NOW).signing)
    barrier = threading.Barrier(6)
    rotations: list[signing_keys.Rotation] = []

    def rotate() -> None:
        barrier.wait()
        rotations.append(signing_keys.rotate(tmp_path, now=NOW, keep_for=KEEP_FOR))

    threads = [threading.Thread(target=rotate) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    retired = [r.retired.kid for r in rotations]
    new = [r.kid for r in rotations]
    signing = signing_keys.kid_of(signing_keys.load(tmp_path, NOW).signing)
    assert len(rotations) == 6
    assert sorted(retired) == sorted({original, *new} - {signing})  # a chain: each key once
    assert published_kids(tmp_path, NOW) == set(retired)


def test_a_crash_before_the_new_key_is_written_loses_no_key(tmp_path, monkeypatch):
    old = signing_keys.load(tmp_path, NOW).signing
    real_replace = private_files.replace

    def crash_on_the_signing_key(path: Path, content: bytes) -> None:
        if path.name == signing_keys.SIGNING:
            raise OSError("the machine went down")
        real_replace(path, content)

    monkeypatch.setattr(private_files, "replace", crash_on_the_signing_key)
    with pytest.raises(OSError):
        signing_keys.rotate(tmp_path, now=NOW, keep_for=KEEP_FOR)
    monkeypatch.undo()
    after = signing_keys.load(tmp_path, NOW)
    assert after.signing == old  # still signing, and not published twice
    assert after.retired == ()
    done = signing_keys.rotate(tmp_path, now=NOW, keep_for=KEEP_FOR)
    assert published_kids(tmp_path, NOW) == {done.retired.kid} == {signing_keys.kid_of(old)}


@pytest.mark.parametrize(
    "content",
    ["{", '{"retired": [{"kid": "x"}]}', '{"retired": [{"public_key": "not a key"}]}'],
)
def test_a_damaged_retired_keys_file_is_refused_in_one_line_without_a_key(tmp_path, content):
    signing_keys.load(tmp_path, NOW)
    (tmp_path / signing_keys.RETIRED).write_text(content)
    with pytest.raises(KeyStoreError, match=r"oidc_retired_keys.json is damaged") as refused:
        signing_keys.load(tmp_path, NOW)
    assert "\n" not in str(refused.value)


def test_public_keys_take_private_and_public_pems_and_name_a_bad_one_by_its_place():
    private = signing_keys.new_private_key()
    public = signing_keys.public_key(private)
    assert signing_keys.public_keys(f"{private}\n{public}\n") == (public,)
    with pytest.raises(ValueError, match=r"^key 2 of 2 is not an RSA key in PEM$"):
        signing_keys.public_keys(
            private + "\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        )
    with pytest.raises(ValueError, match=r"^must be RSA keys in PEM, one after another$"):
        signing_keys.public_keys(private + "\nsomething else")


def test_write_new_never_overwrites_a_file(tmp_path):
    target = tmp_path / "new.pem"
    signing_keys.write_new(target, "first\n")
    with pytest.raises(FileExistsError):
        signing_keys.write_new(target, "second\n")
    assert target.read_text() == "first\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["new.pem"]
