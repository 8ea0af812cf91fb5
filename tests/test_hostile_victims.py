"""Victim-level extracts and keys, attacked: no victim value in the store, random keys only,
a key verifier that does not make guessing cheap."""

from __future__ import annotations

import hashlib
import hmac
import re
import stat

import duckdb
import pytest
from _hostile import smp, store_dump

from smp_analysis import store
from smp_analysis.errors import InputError
from smp_analysis.pseudonymise import (
    KEY_ENV,
    KeyError_,
    check_key,
    load_key,
    new_key,
    pseudonym,
    verify_key,
)
from smp_analysis.store import ingest

KEY = b"3b8f1e6d0a4c29e75f1b3d8a6c0e4f27"
HEADER = ("incident_id,victim_id,date,time,incident_type,domestic,is_crime,perpetrator_id,"
          "lsoa_code,ward_code,district_code")
GOOD = "{n},V{n:06d},2023-05-01,21:30,Assault,true,true,P{n:06d},E01024321,E05005044,E07000110"
EMAIL = "jane.doe@example.org"
ADDRESS = "12 Acacia Avenue Maidstone ME14 1AA"


def _extract(tmp_path, lines, header=HEADER, name="incidents.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _key_file(tmp_path, key=KEY):
    path = tmp_path / "pseudonym.key"
    path.write_bytes(key + b"\n")
    path.chmod(0o600)
    return path


def _ingest_victims(capsys, tmp_path, path, kind="incidents"):
    return smp(capsys, "ingest", kind.replace("_", "-"), path, "--store",
               tmp_path / "s.duckdb", "--key-file", _key_file(tmp_path))


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


# --------------------------------------------------------------------------- no value stored


def test_a_shifted_row_copies_no_email_or_address_into_the_store(capsys, tmp_path):
    good = [GOOD.format(n=n) for n in range(1, 6)]
    # the e-mail shifts every later field by one: the date column gets the e-mail
    shifted = f"6,V000006,{EMAIL},2023-05-01,21:30,Assault,true,true,P6,E01024321,E07000110"
    same_width = f"7,V000007,{EMAIL},21:30,Assault,true,true,P7,E01024321,E05005044,{EMAIL}"
    address = f"8,V000008,2023-05-01,21:30,Assault,true,true,P8,E01024321,{ADDRESS},E07000110"
    in_type = f"9,V000009,2023-05-01,21:30,{EMAIL},true,true,P9,E01024321,E05005044,E07000110"
    in_id = f"{EMAIL},V000010,2023-05-01,21:30,Assault,true,true,P9,E01024321,E05005044," \
            "E07000110"
    path = _extract(tmp_path, [*good, shifted, same_width, address, in_type, in_id])
    run = _ingest_victims(capsys, tmp_path, path)
    assert run.code == 0
    assert "10 rows read, 5 loaded, 5 quarantined" in run.out
    assert EMAIL not in run.text and "Acacia" not in run.text
    dump = store_dump(tmp_path / "s.duckdb")
    for secret in (EMAIL, "jane.doe", "Acacia", "ME14 1AA", "V000006", "V000001"):
        assert secret not in dump
    assert (tmp_path / "s.duckdb").read_bytes().find(b"jane.doe") == -1
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    quarantine = con.execute("SELECT line, \"column\", reason, value FROM quarantine "
                             "ORDER BY line").fetchall()
    con.close()
    assert {q[0] for q in quarantine} == {7, 8, 9, 10, 11}
    assert all(q[3] is None for q in quarantine)


def test_an_oversize_field_is_one_quarantined_row(capsys, tmp_path):
    lines = [GOOD.format(n=n) for n in range(1, 4)]
    lines.append(GOOD.format(n=4).replace("Assault", "A" * (1 << 20)))
    path = _extract(tmp_path, lines)
    run = _ingest_victims(capsys, tmp_path, path)
    assert run.code == 0 and "4 rows read, 3 loaded, 1 quarantined" in run.out
    assert "characters long" in run.out
    assert "AAAA" not in store_dump(tmp_path / "s.duckdb")


def test_a_duplicated_column_is_a_clear_error_and_nothing_is_stored(capsys, tmp_path):
    path = _extract(tmp_path, [GOOD.format(n=1) + ",2023-05-02"], header=HEADER + ",date")
    run = _ingest_victims(capsys, tmp_path, path)
    assert run.code == 2
    assert "column 'date': the column appears more than once in the header" in run.err
    con = store.connect(tmp_path / "s.duckdb", read_only=True)
    assert not store.has_table(con, "incidents")
    con.close()


def test_a_semicolon_extract_is_diagnosed_in_one_sentence(capsys, tmp_path):
    path = _extract(tmp_path, [GOOD.format(n=1).replace(",", ";")],
                    header=HEADER.replace(",", ";"))
    run = _ingest_victims(capsys, tmp_path, path)
    assert run.code == 2 and "separated by semicolons" in run.err
    assert "expected column is missing" not in run.err


def test_an_unreadable_extract_is_one_line(capsys, tmp_path):
    folder = tmp_path / "incidents.csv"
    folder.mkdir()
    run = _ingest_victims(capsys, tmp_path, folder)
    assert run.code == 2 and "cannot be read" in run.err


# --------------------------------------------------------------------------- keys


def test_keygen_writes_a_random_private_key_and_never_overwrites(capsys, tmp_path):
    path = tmp_path / "keys" / "smp.key"
    run = smp(capsys, "keygen", "--out", path)
    assert run.code == 0 and str(path) in run.out and "same key" in run.out
    key = path.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key.encode()
    other = tmp_path / "other.key"
    assert smp(capsys, "keygen", "--out", other).code == 0
    assert other.read_text() != path.read_text()
    again = smp(capsys, "keygen", "--out", path)
    assert again.code == 1 and "already exists" in again.err
    assert path.read_text().strip() == key


@pytest.mark.parametrize("weak, why", [
    (b"passwordpassword", "repeated pattern"),
    (b"short", "at least 16 characters"),
    (b"maidstonepartnership", "dictionary word"),
    (b"thequickbrownfoxjumpsoverthelazydog", "dictionary word"),
    (b"abcdefghijklmnopqrstuvwxyz", "sequence"),
    (b"qwertyuiopasdfghjklzxcvbnm", "too easy to guess"),
    (b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "repeated pattern"),
])
def test_weak_keys_are_refused_with_the_fix(capsys, tmp_path, weak, why):
    with pytest.raises(KeyError_, match=why):
        check_key(weak)
    path = _extract(tmp_path, [GOOD.format(n=1)])
    run = smp(capsys, "ingest", "incidents", path, "--store", tmp_path / "s.duckdb",
              "--key-file", _key_file(tmp_path, weak))
    assert run.code == 1 and "smp keygen" in run.err
    assert not (tmp_path / "s.duckdb").exists() or "incidents" not in store_dump(
        tmp_path / "s.duckdb")


def test_a_weak_key_is_refused_by_the_store_api_too(tmp_path):
    path = _extract(tmp_path, [GOOD.format(n=1)])
    con = store.connect(tmp_path / "s.duckdb")
    with pytest.raises(KeyError_, match="too easy to guess"):
        ingest.load_victim_extract(con, "incidents", path, b"passwordpassword")
    con.close()


def test_the_stored_verifier_is_salted_and_slow(tmp_path):
    path = _extract(tmp_path, [GOOD.format(n=n) for n in range(1, 4)])
    stores = []
    for name in ("a", "b"):
        con = store.connect(tmp_path / f"{name}.duckdb")
        ingest.load_victim_extract(con, "incidents", path, KEY)
        (verifier,) = con.execute("SELECT value FROM meta WHERE name = 'pseudonym_key'"
                                  ).fetchone()
        con.close()
        stores.append(verifier)
    kdf, n, r, p, salt, digest = stores[0].split("$")
    assert kdf == "scrypt" and int(n) >= 2 ** 14 and len(bytes.fromhex(salt)) >= 16
    assert stores[0] != stores[1]  # a random salt per store: no precomputed table helps
    # the fast HMAC fingerprint of old stores is gone
    fast = hmac.new(KEY, b"smp-analysis key fingerprint", hashlib.sha256).hexdigest()[:16]
    assert fast not in stores[0]
    assert verify_key(KEY, stores[0]) and not verify_key(b"7c3e9a1f5b8d2e4a6c0f9b3d7e1a5c8f",
                                                         stores[0])


def test_a_different_key_is_refused_and_an_old_fingerprint_upgraded(tmp_path):
    path = _extract(tmp_path, [GOOD.format(n=1)])
    con = store.connect(tmp_path / "s.duckdb")
    con.execute("CREATE TABLE meta (name VARCHAR PRIMARY KEY, value VARCHAR)")
    legacy = pseudonym("smp-analysis key fingerprint", KEY)[:16]
    con.execute("INSERT INTO meta VALUES ('pseudonym_key', ?)", [legacy])
    ingest.load_victim_extract(con, "incidents", path, KEY)
    (value,) = con.execute("SELECT value FROM meta WHERE name = 'pseudonym_key'").fetchone()
    assert value.startswith("scrypt$")
    with pytest.raises(InputError, match="different pseudonymisation key"):
        ingest.load_victim_extract(con, "incidents", path, b"7c3e9a1f5b8d2e4a6c0f9b3d7e1a5c8f")
    con.close()


def test_same_key_links_two_stores_and_separate_keys_keep_them_apart(tmp_path):
    """What docs/assumptions_and_caveats.md says: one key per store keeps stores unlinkable."""
    path = _extract(tmp_path, [GOOD.format(n=1)])
    keys = {"a": KEY, "b": KEY, "c": new_key().encode()}
    pseudonyms = {}
    for name, key in keys.items():
        con = store.connect(tmp_path / f"{name}.duckdb")
        ingest.load_victim_extract(con, "incidents", path, key)
        pseudonyms[name] = con.execute("SELECT victim_key FROM incidents").fetchone()[0]
        con.close()
    assert pseudonyms["a"] == pseudonyms["b"] != pseudonyms["c"]
