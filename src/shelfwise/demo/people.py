"""The mall's shoppers: latent persons with a segment, and the messy customer records they leave behind.

A person is the truth; customer records are what the loyalty system holds. About one person in eight
signed up two or three times, with the variations identity resolution must see through (typos, missing
accents, reordered names, upper-case e-mails, other phone formats, CPF with or without punctuation).
"""

from __future__ import annotations

import unicodedata
from datetime import date

import numpy as np
import pandas as pd

# code, name pt, name en, share, weekend share, receipts/month, spend x, app use, wifi, drives, promo share,
# dwell median (min), consent, member, age range
_SEGMENTS = (
    ("weekend_family", "Família de fim de semana", "Weekend family", 0.22, 0.75, 1.7, 1.35, 0.45, 0.7, 0.8, 0.12,
     160, 0.55, 0.9, (30, 50)),
    ("premium", "Premium", "Premium", 0.15, 0.45, 1.0, 2.2, 0.35, 0.6, 0.9, 0.05, 90, 0.35, 0.85, (35, 68)),
    ("deal_hunter", "Caçador de ofertas", "Deal hunter", 0.25, 0.4, 2.6, 0.6, 0.8, 0.6, 0.3, 0.45, 100, 0.85,
     0.95, (24, 70)),
    ("young_entertainment", "Jovem entretenimento", "Young entertainment", 0.18, 0.5, 2.0, 0.75, 0.75, 0.9, 0.15,
     0.1, 130, 0.6, 0.9, (18, 28)),
    ("weekday_routine", "Rotina de semana", "Weekday routine", 0.20, 0.12, 3.0, 0.85, 0.3, 0.5, 0.4, 0.08, 30,
     0.45, 0.85, (25, 65)),
)
SEGMENT_COLUMNS = ("segment", "segment_pt", "segment_en", "share", "weekend_share", "receipts_per_month", "spend",
                   "app_use", "wifi", "drives", "promo_share", "dwell", "consent", "member", "ages")

# hour-of-day weights for 10h..21h
HOURS = {
    "weekend_family": (0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 0.9, 0.7, 0.4, 0.2, 0.1),
    "premium": (0.3, 0.4, 0.6, 0.6, 0.8, 1.0, 1.0, 1.0, 0.9, 0.7, 0.4, 0.2),
    "deal_hunter": (0.6, 0.8, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.7, 0.6, 0.4, 0.2),
    "young_entertainment": (0.05, 0.1, 0.3, 0.3, 0.3, 0.4, 0.5, 0.8, 1.0, 1.0, 1.0, 0.8),
    "weekday_routine": (0.2, 0.5, 1.6, 1.6, 0.5, 0.3, 0.3, 0.4, 0.9, 0.9, 0.3, 0.1),
}

# preference for tenant formats; formats not listed weigh 0.15
FORMATS = {
    "weekend_family": {"alimentação": 3.0, "infantil": 3.0, "cinema": 1.2, "supermercado": 1.2, "moda": 1.0,
                       "livraria": 0.5, "pet": 0.5},
    "premium": {"moda": 3.0, "eletrônicos": 2.5, "joalheria": 1.5, "ótica": 1.0, "beleza": 1.5,
                "alimentação": 1.2, "livraria": 0.6},
    "deal_hunter": {"moda": 2.0, "supermercado": 2.2, "farmácia": 1.5, "alimentação": 1.5, "eletrônicos": 0.5,
                    "beleza": 0.5, "pet": 0.6},
    "young_entertainment": {"cinema": 3.0, "alimentação": 3.0, "eletrônicos": 1.2, "moda": 1.2, "academia": 1.0,
                            "beleza": 0.4},
    "weekday_routine": {"supermercado": 3.0, "farmácia": 3.0, "alimentação": 2.0, "academia": 1.5, "pet": 0.5},
}

_FEMALE = ("Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Patrícia",
           "Aline", "Lúcia", "Júlia", "Letícia", "Conceição", "Cláudia", "Mônica", "Thaís", "Débora", "Flávia",
           "Vitória", "Beatriz", "Camila", "Gabriela", "Larissa", "Inês", "Sônia", "Luíza", "Bruna")
_MALE = ("José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luís", "Marcos",
         "Márcio", "Sebastião", "Vinícius", "Caio", "Fábio", "Rafael", "Gabriel", "Thiago", "André", "Rogério",
         "Sérgio", "Otávio", "Guilherme", "Mateus", "Emerson", "Diógenes", "Raimundo", "Igor")
_SURNAMES = ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
             "Ribeiro", "Carvalho", "Araújo", "Conceição", "Gonçalves", "Magalhães", "Simões", "Brandão", "Falcão",
             "Assunção", "Nogueira", "Peixoto", "Guimarães", "Medeiros", "Barros", "Cardoso", "Teixeira",
             "Moraes", "Rocha", "Dias", "Nascimento", "Andrade", "Monteiro", "Mendes", "Freitas", "Batista",
             "Romão", "Leão", "Sampaio", "Antunes", "Camargo", "Queiroz", "Estêvão", "Bezerra")
_CITIES = (("São Paulo", 0.72), ("Guarulhos", 0.06), ("Osasco", 0.05), ("Santo André", 0.05),
           ("São Bernardo do Campo", 0.05), ("Barueri", 0.04), ("Taboão da Serra", 0.03))
_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br", "bol.com.br")


def segments() -> pd.DataFrame:
    """The five latent shopper segments and the behaviour each one plants."""
    return pd.DataFrame(list(_SEGMENTS), columns=list(SEGMENT_COLUMNS))


def strip_accents(text: pd.Series) -> pd.Series:
    """Drop diacritics the way an old system or a hurried typist does."""
    return text.map(lambda t: "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c)))


def cpf_check_digits(stems: np.ndarray) -> np.ndarray:
    """Both CPF check digits for (n, 9) digit arrays, by the Receita Federal mod-11 rule."""
    d1 = (stems * np.arange(10, 1, -1)).sum(axis=1) * 10 % 11 % 10
    ten = np.column_stack([stems, d1])
    d2 = (ten * np.arange(11, 1, -1)).sum(axis=1) * 10 % 11 % 10
    return np.column_stack([d1, d2])


def _cpfs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct valid CPFs (two persons never share one)."""
    numbers = rng.choice(10**8, size=n + 200, replace=False) + 10**8 * rng.integers(1, 10, n + 200)
    stems = (numbers[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    stems[:, 1] = (stems[:, 0] + 1 + stems[:, 1] % 8) % 10  # never all digits equal
    digits = np.column_stack([stems, cpf_check_digits(stems)])
    return pd.unique(np.array(["".join(map(str, row)) for row in digits], dtype=object))[:n]


def persons(rng: np.random.Generator, n: int, mall_start: date, end_date: date) -> pd.DataFrame:
    """Latent persons: segment, identity, membership, activity window and payment cards."""
    seg = segments()
    code = rng.choice(len(seg), size=n, p=seg["share"].to_numpy())
    female = rng.random(n) < 0.53
    first = np.where(female, rng.choice(_FEMALE, n), rng.choice(_MALE, n))
    k1 = rng.integers(0, len(_SURNAMES), n)
    k2 = (k1 + rng.integers(1, len(_SURNAMES), n)) % len(_SURNAMES)
    s1, s2 = np.array(_SURNAMES, dtype=object)[k1], np.array(_SURNAMES, dtype=object)[k2]
    particle = np.where(rng.random(n) < 0.12, " da", "")
    two = rng.random(n) < 0.75
    name = pd.Series(first) + particle + " " + pd.Series(np.where(two, s1 + " " + s2, s2))
    lo = np.array([a[0] for a in seg["ages"]])[code]
    hi = np.array([a[1] for a in seg["ages"]])[code]
    age_days = (rng.uniform(lo, hi + 1) * 365.25).astype(int)
    birth = pd.Timestamp(end_date) - pd.to_timedelta(age_days, unit="D")
    span = (pd.Timestamp(end_date) - pd.Timestamp(mall_start)).days
    joined_before = rng.random(n) < 0.7
    join = np.where(joined_before, -rng.integers(30, 1500, n), rng.integers(0, span - 30, n))
    churn = np.where(rng.random(n) < 0.15, rng.integers(60, span, n), span + 1)
    churn = np.maximum(churn, join + 30)
    frame = pd.DataFrame({
        "person_id": [f"P{i:05d}" for i in range(1, n + 1)], "segment": seg["segment"].to_numpy()[code],
        "seg": code, "gender": np.where(female, "F", "M"), "name": name, "first": first, "last": s2,
        "birth_date": birth.normalize(), "city": rng.choice([c for c, _ in _CITIES], n,
                                                             p=[w for _, w in _CITIES]),
        "phone": _phones(rng, n), "cpf": _cpfs(rng, n),
        "consent": rng.random(n) < seg["consent"].to_numpy()[code],
        "member": rng.random(n) < seg["member"].to_numpy()[code],
        "join_day": join, "churn_day": churn,
        "app": rng.random(n) < seg["app_use"].to_numpy()[code],
        "wifi": rng.random(n) < seg["wifi"].to_numpy()[code],
        "drives": rng.random(n) < seg["drives"].to_numpy()[code],
        "activity": rng.gamma(3.0, 1 / 3.0, n), "spend_person": np.exp(rng.normal(0, 0.25, n)),
    })
    frame["email"] = _emails(rng, frame)
    frame["app"] &= frame["member"]
    return frame


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct São Paulo mobile numbers, digits only (formatting varies per record later)."""
    numbers = 6 * 10**7 + rng.choice(4 * 10**7, size=n, replace=False)
    return np.array([f"119{v}" for v in numbers], dtype=object)


def _emails(rng: np.random.Generator, frame: pd.DataFrame) -> pd.Series:
    first = strip_accents(frame["first"]).str.lower()
    last = strip_accents(frame["last"]).str.lower()
    sep = pd.Series(rng.choice([".", "_", ""], len(frame)))
    digits = pd.Series(np.where(rng.random(len(frame)) < 0.5, rng.integers(10, 99, len(frame)).astype(str), ""))
    local = first + sep + last + digits
    dup = local.duplicated()
    local = local.where(~dup, local + pd.Series(np.arange(len(frame)).astype(str)))
    return local + "@" + pd.Series(rng.choice(_DOMAINS, len(frame)))


def _format_phones(rng: np.random.Generator, raw: pd.Series) -> pd.Series:
    """The four ways Brazilian systems store the same mobile number."""
    area, head, tail = raw.str[:2], raw.str[2:7], raw.str[7:]
    styles = pd.Series(rng.integers(0, 4, len(raw)), index=raw.index)
    out = "(" + area + ") " + head + "-" + tail
    out = out.where(styles != 1, "+55 " + area + " " + head + tail)
    out = out.where(styles != 2, raw)
    return out.where(styles != 3, area + " " + head + "-" + tail)


def _format_cpf(rng: np.random.Generator, raw: pd.Series, p_missing: float) -> pd.Series:
    punct = raw.str[:3] + "." + raw.str[3:6] + "." + raw.str[6:9] + "-" + raw.str[9:]
    u = rng.random(len(raw))
    out = raw.where(u < 0.45, punct)
    return out.where(u < 1 - p_missing, None)


def _typo(rng: np.random.Generator, names: pd.Series) -> pd.Series:
    """Swap or drop one letter inside a name (a few hundred names: a loop is fine)."""
    out = []
    for name, u, k in zip(names, rng.random(len(names)), rng.integers(1, 10**6, len(names)), strict=True):
        pos = 1 + k % max(1, len(name) - 3)
        if name[pos] == " " or name[pos + 1] == " ":
            pos = 1
        out.append(name[:pos] + name[pos + 1] + name[pos] + name[pos + 2:] if u < 0.5 else name[:pos] + name[pos + 1:])
    return pd.Series(out, index=names.index)


def _reorder(names: pd.Series) -> pd.Series:
    """`Maria Souza Lima` -> `Lima, Maria Souza`, as systems that store the surname first do."""
    parts = names.str.rsplit(" ", n=1)
    return parts.str[1] + ", " + parts.str[0]


def customer_records(rng: np.random.Generator, people: pd.DataFrame, end_date: date,
                     mall_start: date) -> pd.DataFrame:
    """Loyalty records: one per member, plus duplicates for ~12% of members with realistic variations."""
    members = people[people["member"]].reset_index(drop=True)
    extra = np.where(rng.random(len(members)) < 0.12, np.where(rng.random(len(members)) < 0.7, 1, 2), 0)
    base = members.loc[members.index.repeat(1 + extra)].reset_index(drop=True)
    dup = base.groupby("person_id").cumcount().to_numpy() > 0
    n = len(base)
    name = base["name"].copy()
    kind = pd.Series(rng.choice(["typo", "plain", "order", "upper", "same"], n, p=[0.3, 0.25, 0.15, 0.15, 0.15]))
    m = dup & (kind == "typo").to_numpy()
    name[m] = _typo(rng, name[m])
    m = dup & (kind == "plain").to_numpy()
    name[m] = strip_accents(name[m])
    m = dup & (kind == "order").to_numpy()
    name[m] = _reorder(name[m])
    m = dup & (kind == "upper").to_numpy()
    name[m] = name[m].str.upper()
    email = base["email"].copy()
    e_kind = rng.choice(["same", "upper", "other", "missing"], n, p=[0.4, 0.25, 0.2, 0.15])
    email[dup & (e_kind == "upper")] = email[dup & (e_kind == "upper")].str.upper()
    other = dup & (e_kind == "other")
    email[other] = email[other].str.split("@").str[0] + "@" + pd.Series(rng.choice(_DOMAINS, n))[other]
    email[dup & (e_kind == "missing")] = None
    phone = _format_phones(rng, base["phone"]).where(~(dup & (rng.random(n) < 0.1)), None)
    cpf = pd.concat([_format_cpf(rng, base["cpf"][~dup], 0.1), _format_cpf(rng, base["cpf"][dup], 0.3)]).sort_index()
    cpf_valid = pd.Series(pd.array(np.where(cpf.notna(), True, None), dtype="boolean"))
    invalid = rng.choice(np.flatnonzero(cpf.notna().to_numpy()), size=20, replace=False)
    cpf[invalid] = cpf[invalid].str[:-1] + ((cpf[invalid].str[-1].astype(int) + 1 + rng.integers(0, 8, 20)) % 10
                                             ).astype(str)
    cpf_valid[invalid] = False
    # Every extra record keeps at least one identifier shared with the first one (else no one could link it).
    good_cpf = cpf_valid.fillna(False).to_numpy(dtype=bool)
    first_has_cpf = base["person_id"].map(pd.Series(good_cpf[~dup], index=base["person_id"][~dup])).to_numpy()
    shares = (good_cpf & first_has_cpf) | np.isin(e_kind, ["same", "upper"]) | phone.notna().to_numpy()
    lost = dup & ~shares
    phone[lost] = _format_phones(rng, base["phone"][lost])
    created = np.where(dup, base["join_day"] + rng.integers(20, 500, n), base["join_day"])
    span = (pd.Timestamp(end_date) - pd.Timestamp(mall_start)).days
    created = np.minimum(created, span)
    created_at = (pd.Timestamp(mall_start) + pd.to_timedelta(created, unit="D")
                  + pd.to_timedelta(rng.integers(10 * 60, 22 * 60, n), unit="m"))
    records = pd.DataFrame({
        "person_id": base["person_id"], "segment": base["segment"], "is_duplicate": dup, "name": name,
        "email": email, "phone": phone, "document": cpf, "document_valid": cpf_valid.array,
        "birth_date": base["birth_date"].where(~(dup & (rng.random(n) < 0.15)), pd.NaT), "gender": base["gender"],
        "city": base["city"], "state": "SP",
        "consent_marketing": np.where(dup, rng.random(n) < 0.5, base["consent"]), "created_at": created_at,
    }).sort_values(["created_at", "person_id"], kind="stable").reset_index(drop=True)
    ids = 1000 + np.cumsum(rng.integers(1, 4, len(records)))
    records.insert(0, "customer_id", pd.Series(ids).astype(str).str.zfill(7))
    return records
