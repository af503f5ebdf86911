"""The audit chain, on real files: what `record` writes, and what `verify` finds after each kind of tampering."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shelfwise.privacy.audit import AuditLogError, Verdict, record, verify

ZEROS = "0" * 64
MAX_ENTRIES = 30


def write_log(log: Path, count: int) -> list[dict]:
    return [record(log, "vault.read", actor="cli", purpose="test", records=seq) for seq in range(1, count + 1)]


def lines_of(log: Path) -> list[bytes]:
    return log.read_bytes().splitlines(keepends=True)


def rewrite(log: Path, lines: list[bytes]) -> None:
    log.write_bytes(b"".join(lines))


def expected_hash(entry: dict) -> str:
    """The hash as the format defines it, computed here apart from the module."""
    content = {key: value for key, value in entry.items() if key != "hash"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "audit.log"


def test_appends_build_a_chain_that_verifies(log):
    written = write_log(log, 5)

    entries = [json.loads(line) for line in lines_of(log)]
    assert entries == written
    assert [entry["seq"] for entry in entries] == [1, 2, 3, 4, 5]
    assert [entry["prev"] for entry in entries] == [ZEROS] + [entry["hash"] for entry in entries[:-1]]
    assert all(entry["hash"] == expected_hash(entry) for entry in entries)
    assert json.loads(log.with_name("audit.log.head").read_text()) == {"seq": 5, "hash": entries[-1]["hash"]}
    assert verify(log) == Verdict(ok=True, entries=5, head=entries[-1]["hash"], problems=())


def test_an_entry_says_when_who_and_what(log):
    entry = record(log, "privacy.erase", actor="cli", request_id="r-1", file=Path("landing/x.csv"),
                   day=date(2024, 3, 1), at=datetime(2024, 3, 1, 12, tzinfo=UTC), subjects=("ps1", "ps2"))

    assert datetime.fromisoformat(entry["at"]).utcoffset().total_seconds() == 0
    assert entry["actor"].endswith(f" pid {os.getpid()} via cli")
    assert "@" in entry["actor"]
    assert entry["details"] == {"request_id": "r-1", "file": "landing/x.csv", "day": "2024-03-01",
                                "at": "2024-03-01T12:00:00+00:00", "subjects": ["ps1", "ps2"]}
    assert record(log, "vault.read")["actor"].endswith(f" pid {os.getpid()}")


def test_log_and_head_file_are_private(log):
    record(log, "vault.read")

    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.with_name("audit.log.head").stat().st_mode) == 0o600


def test_a_detail_that_is_not_json_is_refused_before_writing(log):
    with pytest.raises(TypeError, match="not a JSON value"):
        record(log, "vault.read", who={"a", "b"})
    assert not log.exists()


def test_an_entry_longer_than_a_read_chunk_is_chained(log):
    record(log, "vault.read", note="x" * 20_000)
    record(log, "vault.read")

    assert verify(log).ok


def test_a_missing_or_empty_log_is_ok_with_no_entries(log):
    assert verify(log) == Verdict(ok=True, entries=0, head=None, problems=())
    log.parent.mkdir()
    log.touch()
    assert verify(log).ok


def test_an_edited_entry_is_one_problem_on_its_line(log):
    write_log(log, 9)
    lines = lines_of(log)
    lines[3] = lines[3].replace(b'"purpose":"test"', b'"purpose":"tesT"')
    rewrite(log, lines)

    verdict = verify(log)

    assert not verdict.ok
    assert verdict.problems == ("line 4 (seq 4): its content was changed after it was written (hash mismatch)",)


@pytest.mark.parametrize(("field", "value"), [("seq", 40), ("at", "2020-01-01T00:00:00+00:00"), ("action", "x"),
                                              ("actor", "someone"), ("prev", "1" * 64), ("hash", "2" * 64)])
def test_editing_any_field_is_one_problem(log, field, value):
    write_log(log, 6)
    lines = lines_of(log)
    entry = json.loads(lines[2])
    entry[field] = value
    lines[2] = json.dumps(entry).encode() + b"\n"
    rewrite(log, lines)

    problems = verify(log).problems

    assert len(problems) == 1
    assert problems[0].startswith("line 3 ")


def test_editing_the_last_entry_is_one_problem(log):
    write_log(log, 4)
    rewrite(log, [*lines_of(log)[:3], lines_of(log)[3].replace(b'"records":4', b'"records":5')])

    assert verify(log).problems == ("line 4 (seq 4): its content was changed after it was written (hash mismatch)",)


def test_a_removed_middle_entry_is_located(log):
    write_log(log, 9)
    lines = lines_of(log)
    rewrite(log, lines[:4] + lines[5:])

    assert verify(log).problems == ("line 5 (seq 6): seq 5 is missing between line 4 (seq 4) and here, entries were "
                                    "removed",)


def test_removed_first_entries_are_located(log):
    write_log(log, 5)
    rewrite(log, lines_of(log)[2:])

    assert verify(log).problems == ("line 1 (seq 3): seq 1 to 2 are missing before it, entries were removed",)


def test_swapped_lines_are_one_problem(log):
    write_log(log, 6)
    lines = lines_of(log)
    lines[2], lines[3] = lines[3], lines[2]
    rewrite(log, lines)

    assert verify(log).problems == ("line 3 (seq 4): out of order, it belongs after line 4 (seq 3)",)


def test_an_entry_moved_far_is_one_problem(log):
    write_log(log, 8)
    lines = lines_of(log)
    rewrite(log, [lines[0], *lines[2:], lines[1]])

    assert verify(log).problems == ("line 8 (seq 2): out of order, it belongs after line 1 (seq 1)",)


def test_a_copied_entry_is_reported(log):
    write_log(log, 4)
    lines = lines_of(log)
    rewrite(log, [*lines[:3], lines[1], lines[3]])

    assert verify(log).problems == ("line 4 (seq 2): a second entry with seq 2 (the first is on line 2)",)


def test_removed_last_entries_are_seen_through_the_head_file(log):
    write_log(log, 6)
    rewrite(log, lines_of(log)[:4])

    assert verify(log).problems == ("the log ends at line 4 (seq 4) but its head file says seq 6: entries were "
                                    "removed from the end",)


def test_an_emptied_log_is_seen_through_the_head_file(log):
    write_log(log, 3)
    log.write_bytes(b"")

    assert verify(log).problems == ("the log holds no valid entry but its head file says seq 3: entries were removed",)


def test_a_missing_or_altered_head_file_is_a_problem(log):
    write_log(log, 3)
    head_file = log.with_name("audit.log.head")
    head_file.write_text('{"seq": 3, "hash": "' + "f" * 64 + '"}')
    assert verify(log).problems == ("the log ends at line 3 (seq 3) with another hash than its head file records: the "
                                    "head file or the last entry was altered",)
    head_file.write_text("three")
    assert verify(log).problems == ("the head file audit.log.head was altered: it is not JSON",)
    head_file.unlink()
    assert verify(log).problems == ("the head file audit.log.head is missing, so entries removed after line 3 (seq 3) "
                                    "would go unnoticed",)


@pytest.mark.parametrize(("garbage", "reason"), [(b"not json\n", "not JSON"), (b"\n", "empty line"),
                                                 (b"\xff\xfe\n", "not UTF-8"), (b'{"seq": 3}\n', "field 'at'")])
def test_an_unreadable_line_is_one_problem(log, garbage, reason):
    write_log(log, 5)
    lines = lines_of(log)
    inserted = [*lines[:2], garbage, *lines[2:]]
    replacing = [*lines[:2], garbage, *lines[3:]]

    for tampered in (inserted, replacing):
        rewrite(log, tampered)
        problems = verify(log).problems
        assert len(problems) == 1
        assert problems[0].startswith(f"line 3 (after seq 2): not a valid audit entry ({reason}")


def test_an_unreadable_last_line_is_not_also_a_removal(log):
    write_log(log, 4)
    rewrite(log, [*lines_of(log)[:3], b'{"seq": 4, "at"\n'])

    assert verify(log).problems == ("line 4 (after seq 3): not a valid audit entry (not JSON)",)


def test_appending_after_a_truncation_is_refused_so_the_evidence_stays(log):
    write_log(log, 5)
    truncated = lines_of(log)[:3]
    rewrite(log, truncated)

    with pytest.raises(AuditLogError, match=r"ends at seq 3 .* head file says seq 5"):
        record(log, "vault.read")
    assert lines_of(log) == truncated
    assert "head file says seq 5" in verify(log).problems[0]


def test_appending_after_a_damaged_last_line_is_refused(log):
    write_log(log, 2)
    with log.open("ab") as handle:
        handle.write(b'{"seq": 3, "at"')

    with pytest.raises(AuditLogError, match="last line or head file is damaged"):
        record(log, "vault.read")


def test_an_append_interrupted_before_the_head_file_is_repaired_by_the_next(log):
    write_log(log, 3)
    head_file = log.with_name("audit.log.head")
    before_last_append = head_file.read_bytes()
    record(log, "vault.read")
    head_file.write_bytes(before_last_append)
    assert not verify(log).ok

    record(log, "vault.read")

    assert verify(log).ok


def append_many(log: Path, writer: int, count: int) -> None:
    for number in range(count):
        record(log, "vault.read", actor=f"writer {writer}", number=number)


def start_writers(log: Path, writers: int, appends: int) -> list[multiprocessing.process.BaseProcess]:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=append_many, args=(log, writer, appends)) for writer in range(writers)]
    for process in processes:
        process.start()
    return processes


def wait_for(processes: list[multiprocessing.process.BaseProcess]) -> None:
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_concurrent_appends_from_several_processes_keep_one_chain(log):
    wait_for(start_writers(log, writers=4, appends=50))

    verdict = verify(log)
    entries = [json.loads(line) for line in lines_of(log)]

    assert verdict.ok, verdict.problems
    assert verdict.entries == 200
    assert [entry["seq"] for entry in entries] == list(range(1, 201))
    writers_of_entries = sorted(entry["actor"].rsplit(" via ", 1)[1] for entry in entries)
    assert writers_of_entries == sorted(f"writer {writer}" for writer in range(4) for _ in range(50))


def test_verify_during_appends_never_sees_a_log_and_head_file_out_of_step(log):
    writers = start_writers(log, writers=2, appends=40)
    verdicts_while_writing = []
    while any(process.is_alive() for process in writers):
        verdicts_while_writing.append(verify(log))
        time.sleep(0.01)  # back-to-back shared locks would starve the writers
    wait_for(writers)

    assert [verdict.problems for verdict in verdicts_while_writing if not verdict.ok] == []
    assert verify(log).entries == 80


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> list[tuple[bytes, bytes]]:
    """(log, head file) as bytes after each of MAX_ENTRIES appends, so an example costs no fsync."""
    log = tmp_path_factory.mktemp("chain") / "audit.log"
    taken = [(b"", b"")]
    for number in range(1, MAX_ENTRIES + 1):
        record(log, "privacy.access", actor="api", request_id=f"r-{number}", subject=f"ps-{number:04d}")
        taken.append((log.read_bytes(), log.with_name("audit.log.head").read_bytes()))
    return taken


STRING_FIELDS = ["at", "action", "actor", "prev", "hash", "request_id", "subject"]


@st.composite
def tampered_logs(draw, snapshots: list[tuple[bytes, bytes]]) -> tuple[list[bytes], bytes]:
    count = draw(st.integers(2, MAX_ENTRIES))
    log_bytes, head_bytes = snapshots[count]
    lines = log_bytes.splitlines(keepends=True)
    index = draw(st.integers(0, count - 1))
    mutation = draw(st.sampled_from(["edit", "delete", "swap"]))
    if mutation == "delete":
        del lines[index]
    elif mutation == "swap":
        index = min(index, count - 2)
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
    else:
        field = draw(st.sampled_from(STRING_FIELDS))
        start = lines[index].index(f'"{field}":"'.encode()) + len(field) + 4
        end = lines[index].index(b'"', start)
        offset = draw(st.integers(start, end - 1))
        byte = draw(st.integers(0, 255).filter(lambda value: value != lines[index][offset]))
        lines[index] = lines[index][:offset] + bytes([byte]) + lines[index][offset + 1 :]
    return lines, head_bytes


def test_snapshots_verify_untouched(snapshots, tmp_path):
    log = tmp_path / "audit.log"
    for log_bytes, head_bytes in snapshots[1:]:
        log.write_bytes(log_bytes)
        log.with_name("audit.log.head").write_bytes(head_bytes)
        assert verify(log).ok


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_single_tampering_is_caught(snapshots, data):
    lines, head_bytes = data.draw(tampered_logs(snapshots))
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "audit.log"
        log.write_bytes(b"".join(lines))
        log.with_name("audit.log.head").write_bytes(head_bytes)

        verdict = verify(log)

    assert not verdict.ok
    assert all(problem.startswith(("line ", "the log ", "the head file ")) for problem in verdict.problems)
