"""Hard identity-resolution cases at any scale: duplicates with planted noise, relatives who share contacts.

The mall demo is too easy to tell a good record-linkage model from a broken one (the design study scored
1.000 with settings that fell to F1 0.10 at 200,000 records). This generator plants what breaks models:
typos, reordered and upper-case names, dropped accents, e-mails at another provider, invalid or missing
CPFs, swapped day and month, new phone numbers, and relatives sharing a surname and an e-mail or phone.
It reuses the demo's name lists and perturbation helpers, and is vectorised so the 200,000-record
benchmark builds in seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.demo.people import (
    _DOMAINS,
    _FEMALE,
    _MALE,
    _SURNAMES,
    _format_cpf,
    _format_phones,
    _reorder,
    _typo,
    cpf_check_digits,
    strip_accents,
)

_REFERENCE_DAY = np.datetime64("2026-01-01")
_RELATIVE_SHARE = 0.03
_TEXT = "string[pyarrow]"  # Arrow-backed strings: vectorised slicing and concatenation at 200,000 rows


def identity_records(n_records: int, duplicate_share: float = 0.1, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer records as the vault returns them, and the truth of who is who.

    Args:
        n_records: Number of customer records to produce (persons plus duplicate records).
        duplicate_share: Share of the records that are an extra record of an already present person.
        seed: Seed of the random generator; the same arguments give the same frames.

    Returns:
        `records` with customer_id, name, email, phone, document, birth_date (all strings or None, birth dates
        as 'YYYY-MM-DD' or 'dd/mm/yyyy'), and `truth` with customer_id, person_id, is_duplicate, is_relative.
    """
    if n_records < 0 or not 0 <= duplicate_share < 1:
        raise ValueError("n_records must be >= 0 and duplicate_share in [0, 1)")
    rng = np.random.default_rng(seed)
    n_persons = min(n_records, max(1, n_records - round(n_records * duplicate_share)))
    persons = _persons(rng, n_persons)
    owner = np.concatenate([np.arange(n_persons), rng.integers(0, max(n_persons, 1), n_records - n_persons)])
    base = persons.iloc[owner].reset_index(drop=True)
    dup = np.arange(n_records) >= n_persons
    records = pd.DataFrame({
        "name": _names(rng, base["name"], dup), "email": _emails(rng, base["email"], dup),
        "phone": _phones(rng, base["phone"], dup), "document": _documents(rng, base["cpf"], dup),
        "birth_date": _birth_dates(rng, base["birth_date"], dup),
    })
    order = rng.permutation(n_records)
    ids = _numbers(np.arange(1, n_records + 1), width=8).to_numpy(dtype=object)
    records = records.iloc[order].reset_index(drop=True)
    records.insert(0, "customer_id", ids)
    truth = pd.DataFrame({"customer_id": ids, "person_id": base["person_id"].to_numpy()[order],
                          "is_duplicate": dup[order], "is_relative": base["is_relative"].to_numpy()[order]})
    records = records.astype(object)
    return records.where(records.notna(), None), truth


def _persons(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Distinct persons; ~3% are relatives of another person (same surnames, shared e-mail or phone)."""
    female = rng.random(n) < 0.53
    first = _text(np.where(female, rng.choice(len(_FEMALE), n), len(_FEMALE) + rng.choice(len(_MALE), n)),
                  _FEMALE + _MALE)
    k1 = rng.integers(0, len(_SURNAMES), n)
    k2 = (k1 + rng.integers(1, len(_SURNAMES), n)) % len(_SURNAMES)
    last = _text(k2, _SURNAMES)
    family = (_text(k1, _SURNAMES) + " " + last).where(rng.random(n) < 0.75, last)
    particle = pd.Series(np.where(rng.random(n) < 0.12, " da ", " "), dtype=_TEXT)
    email = _addresses(rng, first, last)
    phone = _numbers(6 * 10**7 + rng.choice(4 * 10**7, size=n, replace=False)).radd("119")
    relative = np.flatnonzero(rng.random(n) < _RELATIVE_SHARE)
    anchor = (relative + rng.integers(1, max(n, 2), len(relative))) % max(n, 1)
    family[relative], particle[relative] = family[anchor].to_numpy(), particle[anchor].to_numpy()
    by_email = rng.random(len(relative)) < 0.5
    email[relative[by_email]] = email[anchor[by_email]].to_numpy()
    phone[relative[~by_email]] = phone[anchor[~by_email]].to_numpy()
    age_days = rng.integers(18 * 365, 80 * 365, n)
    return pd.DataFrame({
        "person_id": _numbers(np.arange(1, n + 1), width=7).radd("S"),
        "name": first + particle + family, "email": email, "phone": phone, "cpf": _valid_cpfs(rng, n),
        "birth_date": _REFERENCE_DAY - age_days.astype("timedelta64[D]"),
        "is_relative": np.isin(np.arange(n), relative),
    })


def _numbers(values: np.ndarray, width: int = 0) -> pd.Series:
    """Integers as Arrow strings, left-padded with zeros to `width`."""
    text = pc.utf8_lpad(pa.array(values).cast(pa.string()), width=width, padding="0")
    return pd.Series(pd.arrays.ArrowStringArray(text))


def _text(codes: np.ndarray, values: tuple[str, ...]) -> pd.Series:
    """Arrow strings from codes into a tuple of names."""
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(values).unique())).astype(_TEXT)


def _addresses(rng: np.random.Generator, first: pd.Series, last: pd.Series) -> pd.Series:
    """Distinct e-mail addresses built like the demo's (accents stripped once per distinct name)."""
    n = len(first)
    digits = _numbers(rng.integers(10, 99, n)).where(rng.random(n) < 0.5, "")
    separator = pd.Series(rng.choice([".", "_", ""], n), dtype=_TEXT)
    local = _plain(first) + separator + _plain(last) + digits
    local = local.where(~local.duplicated(), local + _numbers(np.arange(n)))
    return local + "@" + pd.Series(rng.choice(_DOMAINS, n), dtype=_TEXT)


def _plain(names: pd.Series) -> pd.Series:
    """Lower case without accents, computed once per distinct name."""
    distinct = pd.Series(names.unique(), dtype=object)
    return names.map(dict(zip(distinct, strip_accents(distinct).str.lower(), strict=True))).astype(_TEXT)


def _valid_cpfs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct valid 11-digit CPFs, never all digits equal."""
    stems = np.unique(rng.integers(10**8, 10**9, n + n // 10 + 100))
    stems = rng.permutation(stems[stems % 111_111_111 != 0])[:n]
    digits = cpf_check_digits((stems[:, None] // 10 ** np.arange(8, -1, -1)) % 10)
    return _numbers(stems * 100 + digits[:, 0] * 10 + digits[:, 1])


def _names(rng: np.random.Generator, names: pd.Series, dup: np.ndarray) -> pd.Series:
    """Duplicates: typo, accents dropped, 'Last, First', upper case or unchanged."""
    out = names.copy()
    kind = rng.choice(np.array(["typo", "plain", "order", "upper", "same"]), len(out), p=[0.3, 0.25, 0.15, 0.15, 0.15])
    for label, change in (("typo", lambda s: _typo(rng, s)), ("plain", strip_accents), ("order", _reorder),
                          ("upper", lambda s: s.str.upper())):
        hit = dup & (kind == label)
        if hit.any():
            out[hit] = change(out[hit])
    return out


def _emails(rng: np.random.Generator, emails: pd.Series, dup: np.ndarray) -> pd.Series:
    """Duplicates: the same address, upper case, the same user at another provider, or none."""
    out = emails.copy()
    kind = rng.choice(np.array(["same", "upper", "other", "missing"]), len(out), p=[0.4, 0.25, 0.2, 0.15])
    upper, other = dup & (kind == "upper"), dup & (kind == "other")
    out[upper] = out[upper].str.upper()
    out[other] = out[other].str.split("@").str[0] + "@" + pd.Series(rng.choice(_DOMAINS, len(out)))[other]
    return out.where(~(dup & (kind == "missing")), None)


def _phones(rng: np.random.Generator, phones: pd.Series, dup: np.ndarray) -> pd.Series:
    """Every record in one of four formats; duplicates may carry a new number or none."""
    u = rng.random(len(phones))
    new = _numbers(6 * 10**7 + rng.integers(0, 4 * 10**7, len(phones))).radd("119")
    raw = phones.where(~(dup & (u < 0.05)), new)
    return _format_phones(rng, raw).where(~(dup & (u >= 0.05) & (u < 0.15)), None)


def _documents(rng: np.random.Generator, cpfs: pd.Series, dup: np.ndarray) -> pd.Series:
    """CPF with or without punctuation, missing (10%, duplicates 30%), or one digit mistyped (1%, 5%)."""
    out = pd.concat([_format_cpf(rng, cpfs[~dup], 0.1), _format_cpf(rng, cpfs[dup], 0.3)]).sort_index()
    typo = out.notna().to_numpy() & (rng.random(len(out)) < np.where(dup, 0.05, 0.01))
    shift = rng.integers(1, 10, typo.sum())
    if typo.any():
        out[typo] = out[typo].str[:-1] + ((out[typo].str[-1].astype(int) + shift) % 10).astype(str)
    return out


def _birth_dates(rng: np.random.Generator, births: pd.Series, dup: np.ndarray) -> pd.Series:
    """ISO or dd/mm/yyyy text; duplicates may lose it (15%) or swap day and month (5%)."""
    iso = pd.Series(np.datetime_as_string(births.to_numpy().astype("datetime64[D]")), dtype=_TEXT)
    year, month, day = iso.str[:4], iso.str[5:7], iso.str[8:]
    u = rng.random(len(iso))
    text = iso.where(rng.random(len(iso)) < 0.5, day + "/" + month + "/" + year)
    text = text.where(~(dup & (u < 0.05)), year + "-" + day + "-" + month)
    return text.where(~(dup & (u >= 0.05) & (u < 0.2)), None)
