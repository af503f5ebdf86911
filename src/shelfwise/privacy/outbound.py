"""The outbound guard: the one door through which anything leaves the machine.

Shelfwise promises the DPO that nothing personal leaves the controller's machine. That promise is only checkable
if there is a single place to check, so this module is THE choke point: every notification channel (webhooks
today; apprise notifications, SMTP and chat later) and every HTTP client of an LLM provider must send through
`OutboundGuard`, never through its own `urllib`, `requests`, `smtplib` or vendor SDK call. A new channel adds its
send method here, next to `send_json`, so that it masks and audits the same way.

What is masked: CPFs, CNPJs, e-mail addresses and phones (by `detect`, the same patterns ingestion uses), and the
names of known customers. Names are matched without decrypting the vault: the caller passes the pseudonyms of the
customers' names (`name_index_entries`, kept wherever the customers' pseudonyms are), and the guard pseudonymises
every run of 2 to 6 words of the outgoing text in one batch and masks the runs found there. Each known name
contributes its full form and its first + last word, so "Ana Freitas Silva" is also caught as "ANA SILVA" or
"ana  freitas silva"; the pseudonym's normalisation already ignores case, accents and extra spaces. A name of one
word is not indexed: a single given name ("Ana") is not enough to identify anyone and is everywhere in ordinary
text.

What is recorded: one audit entry per send, with the channel, the host (not the path or query, which often hold
a webhook's token), the counts of what was masked and the HTTP status, never the payload.

What it does not cover: headers carry credentials and content types and are sent as given, as is the URL; put
no message content in either. Redirects are not followed (the 3xx status is returned), so data never reaches a
host the audit entry does not name.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from shelfwise.privacy import audit
from shelfwise.privacy.detect import MASKS, mask_text
from shelfwise.privacy.pseudonyms import Pseudonymiser
from shelfwise.privacy.vault import Vault
from shelfwise.workspace import Workspace

NAME_MASK = "[nome]"
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
"""A word of a name: letters (accents included), joined by apostrophes or hyphens (D'Ávila, Ana-Maria)."""
_SHORTEST_NAME, _LONGEST_NAME = 2, 6  # in words
_KINDS = (*MASKS, "name")


class OutboundBlocked(RuntimeError):
    """The guard refused to send: the destination is not one it can vouch for."""


def _phrase(words: Iterable[str]) -> str:
    return " ".join(word.replace("’", "'") for word in words)


def _name_phrases(full_name: str) -> list[str]:
    words = _WORD.findall(full_name)
    return [_phrase(words), _phrase((words[0], words[-1]))] if len(words) >= _SHORTEST_NAME else []


def name_index_rows(pseudonymise: Pseudonymiser, names: dict[str, str]) -> list[tuple[str, str]]:
    """(owner, pseudonym) to keep per known customer (owner -> full name): of the full name and of first + last word.

    One pseudonymisation for all of them: the vault stores these at loading, for 200,000 customers at once.
    """
    pairs = [(owner, phrase) for owner, name in names.items() for phrase in _name_phrases(name)]
    pseudonyms = pseudonymise("name", [phrase for _, phrase in pairs])
    return sorted({(owner, p) for (owner, _), p in zip(pairs, pseudonyms, strict=True) if p})


def name_index_entries(pseudonymise: Pseudonymiser, full_names: Iterable[str]) -> set[str]:
    """The pseudonyms to keep for these names (see `name_index_rows`)."""
    return {p for _, p in name_index_rows(pseudonymise, {str(i): n for i, n in enumerate(full_names)})}


def workspace_guard(workspace: Workspace) -> OutboundGuard:
    """The guard of a workspace: the known names are its vault's name index, the audit its log."""
    vault = Vault(workspace)
    return OutboundGuard(Pseudonymiser(vault.keys), vault.known_names(), workspace.audit_path)


@dataclass(frozen=True)
class Guarded:
    """A text as it may leave, and how many values of each kind were masked in it."""

    text: str
    masked: dict[str, int]


@dataclass(frozen=True)
class _Window:
    first: int  # word indices, inclusive
    last: int
    start: int  # character offsets in the text
    end: int
    phrase: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        """Refuse, so the 3xx surfaces as an `HTTPError` carrying its status."""
        return None


class OutboundGuard:
    """Masks what leaves and records that it left; see the module docstring for why everything must use it."""

    def __init__(self, pseudonymise: Pseudonymiser, known_names: set[str], audit_log: Path | None) -> None:
        self.pseudonymise = pseudonymise
        self.known_names = frozenset(known_names)
        self.audit_log = audit_log

    def check(self, text: str) -> Guarded:
        """The text with personal data and known names masked; nothing is sent or recorded."""
        return self._guard([text])[0]

    def guard_payload(self, payload: object) -> tuple[object, dict[str, int]]:
        """A JSON-like payload with every string masked (dict keys too), and the total counts.

        Integers are checked as their digits, since a CPF or phone is easily sent as a JSON number; one that
        holds personal data becomes the masked string. Tuples become lists. Two keys that mask to the same
        text merge, the later value winning.
        """
        texts: list[str] = []
        _collect(payload, texts)
        guarded = self._guard(texts)
        totals = Counter({kind: 0 for kind in _KINDS})
        for each in guarded:
            totals.update(each.masked)
        return _rebuild(payload, iter(guarded)), dict(totals)

    def send_json(
        self,
        url: str,
        payload: object,
        *,
        channel: str,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> int:
        """POST the guarded payload as JSON and return the HTTP status (errors included, redirects not followed).

        Raises:
            OutboundBlocked: The URL is not http(s) with a host.
            OSError: The host could not be reached; the attempt is still audited, with status None.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutboundBlocked(
                f"the {channel} channel may only send to http:// or https:// URLs with a host, not "
                f"'{parts.scheme}:'; check the channel's URL setting"
            )
        guarded, masked = self.guard_payload(payload)
        request = urllib.request.Request(
            url,
            data=json.dumps(guarded, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
            method="POST",
        )
        try:
            status = _post(request, timeout)
        except OSError:
            self._record(channel, parts.hostname, masked, None)
            raise
        self._record(channel, parts.hostname, masked, status)
        return status

    def _record(self, channel: str, host: str, masked: dict[str, int], status: int | None) -> None:
        if self.audit_log is not None:
            audit.record(self.audit_log, "outbound.send", channel=channel, host=host, masked=masked, status=status)

    def _guard(self, texts: list[str]) -> list[Guarded]:
        """Mask many texts with one pseudonymisation of all their word windows."""
        masked = [mask_text(text) for text in texts]
        windows = [_windows(text) for text, _ in masked]
        phrases = sorted({window.phrase for each in windows for window in each})
        known = {phrase for phrase, pseudonym in zip(phrases, self.pseudonymise("name", phrases), strict=True)
                 if pseudonym in self.known_names}
        guarded = []
        for (text, counts), each in zip(masked, windows, strict=True):
            names = _longest_first([window for window in each if window.phrase in known])
            for window in sorted(names, key=lambda w: w.start, reverse=True):
                text = text[:window.start] + NAME_MASK + text[window.end:]
            guarded.append(Guarded(text, {**counts, "name": len(names)}))
        return guarded


def _post(request: urllib.request.Request, timeout: float) -> int:
    """The status of the POST, an error status included; a redirect is not followed but returned."""
    try:
        with urllib.request.build_opener(_NoRedirects).open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def _windows(text: str) -> list[_Window]:
    """Every run of 2 to 6 consecutive words, whatever separates them."""
    words = list(_WORD.finditer(text))
    return [
        _Window(first, first + size - 1, words[first].start(), words[first + size - 1].end(),
                _phrase(word.group() for word in words[first:first + size]))
        for first in range(len(words))
        for size in range(_SHORTEST_NAME, _LONGEST_NAME + 1)
        if first + size <= len(words)
    ]


def _longest_first(found: list[_Window]) -> list[_Window]:
    """The windows to mask: longer ones win, and no word is masked twice."""
    taken: set[int] = set()
    chosen = []
    for window in sorted(found, key=lambda w: (w.first - w.last, w.first)):
        span = set(range(window.first, window.last + 1))
        if not span & taken:
            taken |= span
            chosen.append(window)
    return chosen


def _collect(value: object, texts: list[str]) -> None:
    """Append the strings `_rebuild` will replace, in the order it will meet them."""
    if isinstance(value, str):
        texts.append(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        texts.append(str(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(key, texts)
            _collect(item, texts)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, texts)


def _rebuild(value: object, guarded: Iterator[Guarded]) -> object:
    if isinstance(value, str):
        return next(guarded).text
    if isinstance(value, int) and not isinstance(value, bool):
        text = next(guarded).text
        return value if text == str(value) else text
    if isinstance(value, dict):
        return {_rebuild(key, guarded): _rebuild(item, guarded) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rebuild(item, guarded) for item in value]
    return value
