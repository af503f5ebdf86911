"""The audit log: every read of personal data and every privacy operation, hash-chained so tampering shows.

LGPD art. 37 asks the controller to keep a record of its processing, and a record is only evidence if a later edit
can be seen. So each entry carries the SHA-256 of its own canonical JSON (`hash`) and the hash of the entry before it
(`prev`): changing, removing or reordering an entry breaks a link that `verify` can point at. Removing entries from
the end breaks no link, so a side file `<log>.head` keeps the seq and hash of the last entry.

The log must never contain raw personal data: it outlives erasure requests, and an erased customer's name in the
audit trail would defeat the erasure. Callers pass pseudonyms, counts and record ids, never names, CPFs, e-mails or
phones. `actor` names the operator account (user, host, process), which is what accountability is about.

What it does not do: anyone able to rewrite the whole file can recompute every hash and the head file. Against
that, write `Verdict.head` down somewhere the log's writers cannot reach (a ticket, a signed e-mail) and later check
that the log still holds an entry with that hash: no entry up to it can change without changing that hash.

Appends from several processes are serialised by an exclusive `flock` on the log (local filesystems; NFS locks are
not to be trusted). `record` refuses to append when the log's end disagrees with its head file, because chaining
onto a truncated log would rewrite the head file and erase the only trace of the truncation.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import re
import socket
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePath
from typing import IO

_GENESIS = "0" * 64  # the `prev` of the first entry
_TAIL_CHUNK = 8192
_FIELDS = {"seq": int, "at": str, "action": str, "actor": str, "details": dict, "prev": str, "hash": str}


class AuditLogError(RuntimeError):
    """The log cannot be appended to without hiding damage; nothing was recorded."""


@dataclass(frozen=True)
class Verdict:
    """What `verify` found.

    Attributes:
        ok: True when the chain is intact and matches its head file.
        entries: Lines read, valid or not.
        head: Hash of the last entry, to write down elsewhere as an external anchor; None for an empty log.
        problems: One message per finding, each naming the line and the seq.
    """

    ok: bool
    entries: int
    head: str | None
    problems: tuple[str, ...]


def record(log: Path, action: str, *, actor: str | None = None, **details: object) -> dict:
    """Append one entry and return it.

    Args:
        log: The audit log file; it and its folder are created when missing.
        action: What happened, e.g. "privacy.erase" or "vault.read".
        actor: The interface the operator used ("cli", "api"); the OS account and process are always recorded.
        **details: JSON values describing the operation (pseudonyms, never personal data); Path, date and
            datetime become strings.

    Returns:
        The entry as written, `hash` included.

    Raises:
        AuditLogError: The log's end disagrees with its head file, or its last line is not an entry.
        TypeError: A detail is not a JSON value.
        ValueError: A detail is NaN or infinite, which JSON cannot hold.
    """
    who = _operator() + (f" via {actor}" if actor else "")
    as_json = json.loads(json.dumps(details, default=_jsonable, allow_nan=False))
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a+b", opener=_open_private) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        last_line = _last_line(handle)
        seq, prev = _chain_end(log, last_line)
        at = datetime.now(UTC).isoformat(timespec="microseconds")  # taken under the lock, so time follows seq
        entry = {"seq": seq + 1, "at": at, "action": action, "actor": who, "details": as_json, "prev": prev}
        entry["hash"] = _digest(entry)
        line_break = b"\n" if last_line and not last_line.endswith(b"\n") else b""  # never glue two entries
        handle.write(line_break + json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
        _write_head(log, entry)
    return entry


def verify(log: Path) -> Verdict:
    """Check every entry's hash, the links between entries, their order and the head file.

    Each kind of damage is reported once where it is: an edited entry is one problem (the next entry may link to
    its stored or its recomputed hash), and a line that cannot be read does not also count as a missing seq.
    """
    with _locked_for_reading(log) as handle:
        links, unreadable, problems, lines = _read_links(handle)
        _infer_edited_seqs(links)
        unique, order_problems = _order_problems(links)
        problems += order_problems + _chain_problems(unique, unreadable)
        tip = max(unique, key=lambda link: link.seq, default=None)
        findings = [message for _, message in sorted(problems, key=lambda problem: problem[0])]
        findings += _head_problems(log, tip, unreadable)
    return Verdict(not findings, lines, tip.stored if tip else None, tuple(findings))


@dataclass(slots=True)
class _Link:
    """One readable entry, reduced to what the chain needs."""

    line: int
    seq: int  # as written; for an edited entry, the seq its neighbours give it
    prev: str
    stored: str  # its `hash` field
    computed: str  # the hash of its content now

    @property
    def intact(self) -> bool:
        return self.stored == self.computed

    def answers_to(self, digest: str) -> bool:
        """An edited entry is still the one its successor points at, so either hash will do."""
        return digest in (self.stored, self.computed)


def _operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry and no $USER
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def _jsonable(value: object) -> str:
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, date):  # datetime included
        return value.isoformat()
    raise TypeError(
        f"audit detail {type(value).__name__} is not a JSON value; pass str, int, float, bool, None, list or "
        "dict (Path, date and datetime are converted), e.g. str(value) of a pseudonym"
    )


def _open_private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _canonical(value: object) -> bytes:
    # surrogatepass: a hand-edited line may hold a lone "\ud800"; it must hash, not crash verify.
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def _digest(entry: dict) -> str:
    return hashlib.sha256(_canonical({key: value for key, value in entry.items() if key != "hash"})).hexdigest()


def _head_path(log: Path) -> Path:
    return log.with_name(log.name + ".head")


def _last_line(handle: IO[bytes]) -> bytes:
    """The last line with its line break, read backwards in chunks so a long log costs no more than a short one."""
    position = handle.seek(0, os.SEEK_END)
    tail = b""
    while position > 0:
        step = min(_TAIL_CHUNK, position)
        position -= step
        handle.seek(position)
        tail = handle.read(step) + tail
        start = tail.rfind(b"\n", 0, len(tail) - 1)
        if start >= 0:
            return tail[start + 1 :]
    return tail


def _parse_entry(raw: bytes) -> dict:
    """The entry on one line, or ValueError saying why it is not one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    if not text.strip():
        raise ValueError("empty line")
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    for name, kind in _FIELDS.items():
        if not isinstance(entry.get(name), kind) or isinstance(entry[name], bool):
            raise ValueError(f"field '{name}' is missing or of the wrong type")
    if entry["seq"] < 1:
        raise ValueError("seq below 1")
    return entry


def _read_head(head_file: Path) -> tuple[int, str] | None:
    """(seq, hash) from the head file, None when there is none, ValueError when it is not a head file."""
    try:
        head = json.loads(head_file.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        raise ValueError("it is not JSON") from None
    seq, digest = (head.get("seq"), head.get("hash")) if isinstance(head, dict) else (None, None)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or not isinstance(digest, str):
        raise ValueError("it has no valid seq and hash")
    return seq, digest


def _write_head(log: Path, entry: dict) -> None:
    """Replace the head file atomically, so a crash leaves the old head or the new one, never half of one."""
    head_file = _head_path(log)
    partial = head_file.with_name(head_file.name + ".tmp")
    with open(partial, "wb", opener=_open_private) as handle:
        handle.write(json.dumps({"seq": entry["seq"], "hash": entry["hash"]}).encode() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, head_file)


def _chain_end(log: Path, last_line: bytes) -> tuple[int, str]:
    """The seq and hash the next entry chains onto, once the log's end agrees with its head file.

    A head one entry behind, pointing at the last entry's `prev`, is an append interrupted between writing the line
    and the head file; the new entry's head repairs it.
    """
    try:
        last = _parse_entry(last_line) if last_line else None
        head = _read_head(_head_path(log)) or (0, _GENESIS)
    except ValueError as error:
        raise AuditLogError(
            f"{log} cannot be appended to: its last line or head file is damaged ({error}). Run `shelfwise audit "
            "verify` to see what changed, then keep both files as evidence and move them aside to start a new log"
        ) from None
    end = (last["seq"], last["hash"]) if last else (0, _GENESIS)
    interrupted = last is not None and head == (last["seq"] - 1, last["prev"])
    if head == end or interrupted:
        return end
    raise AuditLogError(
        f"{log} ends at seq {end[0]} (hash {end[1][:12]}) but its head file says seq {head[0]} (hash "
        f"{head[1][:12]}); appending would hide that, so nothing was recorded. Run `shelfwise audit verify` to see "
        "what changed, then keep both files as evidence and move them aside to start a new log"
    )


@contextmanager
def _locked_for_reading(log: Path) -> Iterator[IO[bytes] | None]:
    """The log (None when missing) under a shared lock, so no append lands between reading it and its head file."""
    try:
        handle = log.open("rb")
    except FileNotFoundError:
        yield None
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        yield handle


def _read_links(handle: IO[bytes] | None) -> tuple[list[_Link], list[int], list[tuple[int, str]], int]:
    """The readable entries, the unreadable lines, the problems seen line by line, and the number of lines."""
    links: list[_Link] = []
    unreadable: list[int] = []
    problems: list[tuple[int, str]] = []
    line = 0
    for line, raw in enumerate(handle or (), start=1):
        try:
            entry = _parse_entry(raw)
        except ValueError as reason:
            after = f"after seq {links[-1].seq}" if links else "at the start"
            unreadable.append(line)
            problems.append((line, f"line {line} ({after}): not a valid audit entry ({reason})"))
            continue
        link = _Link(line, entry["seq"], entry["prev"], entry["hash"], _digest(entry))
        if not link.intact:
            problems.append((line, f"line {line} (seq {link.seq}): its content was changed after it was written "
                                   "(hash mismatch)"))
        links.append(link)
    return links, unreadable, problems, line


def _infer_edited_seqs(links: list[_Link]) -> None:
    """Give an edited entry the seq its intact neighbours link it to, in case the edit was to its seq."""
    for index, link in enumerate(links):
        if link.intact:
            continue
        after = links[index + 1] if index + 1 < len(links) else None
        before = links[index - 1] if index > 0 else None
        if after and after.intact and link.answers_to(after.prev):
            link.seq = after.seq - 1
        elif before and before.intact and before.answers_to(link.prev):
            link.seq = before.seq + 1


def _order_problems(links: list[_Link]) -> tuple[list[_Link], list[tuple[int, str]]]:
    """Repeated seqs, and entries out of physical order; returns the first entry of each seq and the problems.

    An entry is out of order when it is not in the longest run of lines whose seqs increase, so swapping two lines
    or moving one is a single problem rather than one per broken link.
    """
    first_of_seq: dict[int, _Link] = {}
    problems: list[tuple[int, str]] = []
    for link in links:
        first = first_of_seq.setdefault(link.seq, link)
        if first is not link:
            problems.append((link.line, f"line {link.line} (seq {link.seq}): a second entry with seq {link.seq} "
                                        f"(the first is on line {first.line})"))
    unique = list(first_of_seq.values())
    for link in _out_of_order(unique):
        before = first_of_seq.get(link.seq - 1)
        where = f"it belongs after line {before.line} (seq {before.seq})" if before else "entries were moved"
        problems.append((link.line, f"line {link.line} (seq {link.seq}): out of order, {where}"))
    return unique, problems


def _out_of_order(links: list[_Link]) -> list[_Link]:
    """The entries outside a longest increasing run of seqs (patience sorting, O(n log n))."""
    run_ends: list[int] = []  # index of the smallest last entry of an increasing run of each length
    run_end_seqs: list[int] = []
    previous_in_run = [-1] * len(links)
    for index, link in enumerate(links):
        length = bisect_left(run_end_seqs, link.seq)
        previous_in_run[index] = run_ends[length - 1] if length else -1
        if length == len(run_ends):
            run_ends.append(index)
            run_end_seqs.append(link.seq)
        else:
            run_ends[length] = index
            run_end_seqs[length] = link.seq
    in_run = set()
    index = run_ends[-1] if run_ends else -1
    while index >= 0:
        in_run.add(index)
        index = previous_in_run[index]
    return [link for index, link in enumerate(links) if index not in in_run]


def _chain_problems(unique: list[_Link], unreadable: list[int]) -> list[tuple[int, str]]:
    """Missing seqs and broken links, walking the entries in seq order (their order in the file is checked apart)."""
    problems: list[tuple[int, str]] = []
    previous: _Link | None = None
    for link in sorted(unique, key=lambda entry: entry.seq):
        expected = previous.seq + 1 if previous else 1
        if link.seq > expected and not _unreadable_between(unreadable, previous, link, link.seq - expected):
            missing = _seqs(expected, link.seq - 1)
            where = f"between line {previous.line} (seq {previous.seq}) and here" if previous else "before it"
            problems.append((link.line, f"line {link.line} (seq {link.seq}): {missing} missing {where}, "
                                        "entries were removed"))
        elif link.seq == expected and link.intact and not _links_to(link, previous):
            after = f"the hash of line {previous.line} (seq {previous.seq})" if previous else "64 zeros"
            problems.append((link.line, f"line {link.line} (seq {link.seq}): its prev is not {after}, "
                                        "the chain is broken here (an entry was replaced)"))
        previous = link
    return problems


def _links_to(link: _Link, previous: _Link | None) -> bool:
    return previous.answers_to(link.prev) if previous else link.prev == _GENESIS


def _unreadable_between(unreadable: list[int], previous: _Link | None, link: _Link, missing: int) -> bool:
    """Whether enough unreadable lines lie between two entries to be the missing ones (already reported)."""
    low, high = sorted((previous.line if previous else 0, link.line))
    return sum(low < line < high for line in unreadable) >= missing


def _seqs(first: int, last: int) -> str:
    return f"seq {first} is" if first == last else f"seq {first} to {last} are"


def _head_problems(log: Path, tip: _Link | None, unreadable: list[int]) -> list[str]:
    """Whether the log still ends where its head file says, the one damage the chain itself cannot show.

    Unreadable lines after the last entry may be the entries the head file counts; they are reported already.
    """
    head_file = _head_path(log)
    try:
        head = _read_head(head_file)
    except ValueError as error:
        return [f"the head file {head_file.name} was altered: {error}"]
    if head is None:
        return [] if tip is None else [
            f"the head file {head_file.name} is missing, so entries removed after line {tip.line} (seq {tip.seq}) "
            "would go unnoticed"
        ]
    seq, digest = head
    last_line, last_seq = (tip.line, tip.seq) if tip else (0, 0)
    if seq > last_seq and sum(line > last_line for line in unreadable) >= seq - last_seq:
        return []
    if tip is None:
        return [f"the log holds no valid entry but its head file says seq {seq}: entries were removed"]
    ends = f"the log ends at line {tip.line} (seq {tip.seq})"
    if seq > tip.seq:
        return [f"{ends} but its head file says seq {seq}: entries were removed from the end"]
    if seq < tip.seq:
        return [f"{ends} but its head file says seq {seq}: entries were added without updating it, or the last "
                "append was interrupted"]
    if not tip.answers_to(digest):
        return [f"{ends} with another hash than its head file records: the head file or the last entry was altered"]
    return []


def record_table_read(log: Path, action: str, statement: str, *, actor: str | None = None, **details: object) -> None:
    """Audit a read (a SQL statement, an export) that touches a table with personal columns, from any interface.

    Such tables hold pseudonyms, not raw values (those are read only through the vault, which audits itself), but
    pseudonymised data is still personal data. A statement may quote a name or a CPF, so the log keeps its hash
    and the tables it names, never its text.
    """
    from shelfwise.schema import TABLES

    touched = [name for name, table in TABLES.items()
               if table.personal_columns and re.search(rf"\b{name}\b", statement, re.IGNORECASE)]
    if touched:
        record(log, action, actor=actor, tables=touched,
               statement_sha256=hashlib.sha256(statement.encode()).hexdigest(), **details)
