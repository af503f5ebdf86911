"""Segment profiles, and the persona names and texts read from them, in pt-BR and English.

A segment is a list of numbers to a clustering algorithm and a person to a marketer: "Família de fim de semana",
"Premium", "Caçador de ofertas". Each segment's profile is its mean of every numeric feature against everyone's,
and the difference in everyone's standard deviations (z, on the log scale for money and counts, so a few big
spenders do not make a segment premium). The names come from rules written in marketing terms -- a high ticket, a
weekend habit, a pull towards kids' stores -- and read on those z, never on the numbers of one data set, so they
carry over to a mall, a grocery chain or a pharmacy alike.

Category signals come from the `cat_<slug>_share` columns whatever the user's categories are called: each
marketing group (family, entertainment, grocery...) is a list of Portuguese and English word stems matched
against the slug's words, and a group's signal is its strongest matching category.

Rules are assigned to segments one to one so the total score is highest (`scipy.optimize.linear_sum_assignment`):
two segments never share a name, and a segment that fits a rule only weakly gives it to one that fits it better.
A segment that matches no rule well enough is named by its two most distinguishing features ("Ticket alto,
noite" / "High ticket, evening") -- a name a marketer can still read, never "Cluster 3".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from shelfwise.messages import number

GATE_Z = 0.5
"""How far (in population standard deviations) a segment must stand out on a rule's gate feature for it to apply."""
MIN_SCORE = 0.8
"""A rule scoring less than this on a segment leaves the segment to a descriptive name."""
Z_CAP = 2.5
"""Each signal counts at most this many standard deviations, so one extreme feature cannot carry a rule alone."""
DISTINGUISHING = 3
"""Features quoted in a segment's `distinguishing_*` text."""
TOO_LITTLE_DATA = -2
"""Segment id of the persons too thin to cluster: profiled, but not part of "everyone" in a z."""
NOT_PROFILED = ("person_id", "consent_marketing")
"""The key, and consent (who may be contacted is not a behaviour)."""
PROFILE_COLUMNS = ["segment_id", "feature", "mean", "overall_mean", "z"]

GROUPS: dict[str, tuple[str, ...]] = {
    "family": ("infantil", "infantis", "crianca", "kids", "kid", "children", "brinqued", "toy", "bebe", "baby",
               "familia", "family", "escolar", "school", "parque", "playground", "fralda", "diaper"),
    "entertainment": ("cinema", "entreten", "entertain", "game", "games", "videogame", "jogo", "jogos", "lazer",
                      "leisure", "diversao", "boliche", "bowling", "arcade", "teatro", "theater", "theatre", "show",
                      "musica", "music", "streaming"),
    "grocery": ("supermercado", "hipermercado", "mercado", "mercearia", "grocer", "hortifruti", "produce", "acougue",
                "butcher", "padaria", "bakery", "laticinio", "dairy", "atacado", "atacarejo", "conveniencia",
                "convenience", "frios", "feira"),
    "health": ("farmacia", "drogaria", "pharma", "drugstore", "saude", "health", "academia", "gym", "fitness",
               "wellness", "bem_estar", "organico", "organic", "natural", "suplemento", "supplement"),
    "fashion": ("moda", "fashion", "vestuario", "roupa", "apparel", "clothing", "calcado", "shoe", "shoes",
                "footwear", "beleza", "beauty", "cosmetic", "perfum", "maquiagem", "makeup", "acessorio", "accessor"),
    "electronics": ("eletronic", "electronic", "eletro", "informatica", "computer", "celular", "phone", "smartphone",
                    "tecnologia", "technology", "tech", "gadget", "eletrodomestico", "appliance"),
    "luxury": ("joalheria", "joia", "joias", "jewel", "relojoaria", "relogio", "watch", "luxo", "luxury", "grife",
               "designer", "premium", "gourmet", "vinho", "wine", "wines", "adega", "importado"),
    "food": ("alimentacao", "food", "restaurante", "restaurant", "lanchonete", "cafe", "cafeteria", "coffee",
             "gastronom", "delivery", "sorveteria", "doceria", "fastfood", "fast_food", "praca_de_alimentacao"),
    "pet": ("pet", "pets", "petshop", "animal", "veterinari"),
    "home": ("casa", "lar", "home", "household", "decoracao", "decor", "moveis", "furniture", "utilidade",
             "limpeza", "cleaning", "construcao", "hardware", "jardim", "garden", "cama_mesa"),
}
"""Marketing groups of categories: word stems (pt and en, accents stripped, as slugs are) that place a category.

A stem of five letters or more matches the start of a slug word ("brinqued" in "brinquedos"); a shorter one only
the whole word or its plural ("pet", "pets"), so "lar" does not catch "laranja"; a stem with "_" matches anywhere
in the slug.
"""


@dataclass(frozen=True)
class Persona:
    """A marketing persona: its names, the signals that score it and the gates it must pass.

    Attributes:
        pt: Name in Portuguese.
        en: Name in English.
        signals: Feature (or `group:<name>`) to signed weight: a positive weight wants the segment above everyone,
            a negative one below.
        gates: Each gate is a tuple of signals of which at least one must stand out by `GATE_Z` in its wanted
            direction; all gates must hold.
    """

    pt: str
    en: str
    signals: dict[str, float]
    gates: tuple[tuple[str, ...], ...]


PERSONAS: tuple[Persona, ...] = (
    Persona("Premium", "Premium",
            {"avg_ticket": 1.0, "group:luxury": 0.4, "group:fashion": 0.2, "group:electronics": 0.2,
             "promo_share": -0.3}, (("avg_ticket",),)),
    Persona("Caçador de ofertas", "Deal hunter",
            {"promo_share": 1.0, "avg_ticket": -0.3, "stores_visited": 0.1}, (("promo_share",),)),
    Persona("Família de fim de semana", "Weekend family",
            {"weekend_share": 1.0, "group:family": 0.7, "avg_dwell_minutes": 0.3, "hour_afternoon_share": 0.2,
             "group:food": 0.2}, (("weekend_share",),)),
    Persona("Jovem entretenimento", "Young entertainment",
            {"group:entertainment": 1.0, "age_years": -0.7, "hour_evening_share": 0.5, "group:food": 0.2},
            (("group:entertainment", "age_years"),)),
    Persona("Rotina de semana", "Weekday routine",
            {"weekend_share": -1.0, "receipts_per_month": 0.4, "group:grocery": 0.4, "group:health": 0.3,
             "avg_dwell_minutes": -0.3, "hour_lunch_share": 0.1}, (("weekend_share",),)),
    Persona("Fiéis", "Loyal regulars",
            {"receipts_per_month": 1.0, "recency_days": -0.5, "favourite_store_share": 0.3, "tenure_days": 0.2},
            (("receipts_per_month",),)),
    Persona("Ocasionais", "Occasional",
            {"receipts_per_month": -1.0, "recency_days": 0.2}, (("receipts_per_month",),)),
    Persona("Em risco", "At risk",
            {"recency_days": 1.0, "receipts": 0.4, "tenure_days": 0.3}, (("recency_days",),)),
    Persona("Compra do mês", "Monthly stock-up",
            {"avg_ticket": 0.8, "receipts_per_month": -0.8, "group:grocery": 0.4},
            (("avg_ticket",), ("receipts_per_month",))),
    Persona("Reposição rápida", "Quick top-up",
            {"receipts_per_month": 0.8, "avg_ticket": -0.8, "avg_dwell_minutes": -0.3, "group:grocery": 0.2},
            (("receipts_per_month",), ("avg_ticket",))),
    Persona("Moda e beleza", "Fashion & beauty", {"group:fashion": 1.0, "avg_ticket": 0.2}, (("group:fashion",),)),
    Persona("Tecnologia", "Tech lovers", {"group:electronics": 1.0, "avg_ticket": 0.2}, (("group:electronics",),)),
    Persona("Saúde e bem-estar", "Health & wellness", {"group:health": 1.0}, (("group:health",),)),
    Persona("Tutores de pet", "Pet parents", {"group:pet": 1.0}, (("group:pet",),)),
    Persona("Casa e decoração", "Home makers", {"group:home": 1.0}, (("group:home",),)),
    Persona("Gastronomia", "Foodies", {"group:food": 1.0, "avg_dwell_minutes": 0.2}, (("group:food",),)),
    Persona("Conectados pelo app", "App-connected", {"app_share": 1.0}, (("app_share",),)),
    Persona("Exploradores", "Explorers", {"stores_visited": 1.0, "favourite_store_share": -0.6},
            (("stores_visited", "favourite_store_share"),)),
    Persona("Novos clientes", "Newcomers", {"tenure_days": -1.0, "receipts": -0.2}, (("tenure_days",),)),
)
"""The rule book. Weights say how much each signal matters to a marketer's idea of the persona."""


@dataclass(frozen=True)
class Vocab:
    """How a feature reads in text: its label, unit, and the words for a segment above or below everyone."""

    pt: str
    en: str
    unit: str
    high: tuple[str, str] | None
    low: tuple[str, str] | None


VOCAB: dict[str, Vocab] = {
    "receipts": Vocab("compras", "receipts", "count", ("muitas compras", "many purchases"),
                      ("poucas compras", "few purchases")),
    "active_days": Vocab("dias com compra", "active days", "count", ("muitos dias de compra", "many active days"),
                         ("poucos dias de compra", "few active days")),
    "spend_total": Vocab("gasto total", "total spend", "money", ("gasto alto", "high spend"),
                         ("gasto baixo", "low spend")),
    "avg_ticket": Vocab("ticket médio", "average ticket", "money", ("ticket alto", "high ticket"),
                        ("ticket baixo", "low ticket")),
    "receipts_per_month": Vocab("compras por mês", "receipts a month", "number", ("frequentes", "frequent"),
                                ("pouco frequentes", "infrequent")),
    "recency_days": Vocab("dias desde a última compra", "days since the last purchase", "days",
                          ("sumidos", "lapsed"), ("recentes", "recent")),
    "tenure_days": Vocab("tempo de casa", "tenure", "days", ("antigos", "long-standing"), ("novos", "new")),
    "weekend_share": Vocab("fim de semana", "weekend", "share", ("fim de semana", "weekend"),
                           ("dias úteis", "weekdays")),
    "hour_morning_share": Vocab("manhã", "morning", "share", ("manhã", "morning"), None),
    "hour_lunch_share": Vocab("almoço", "lunchtime", "share", ("almoço", "lunchtime"), None),
    "hour_afternoon_share": Vocab("tarde", "afternoon", "share", ("tarde", "afternoon"), None),
    "hour_evening_share": Vocab("noite", "evening", "share", ("noite", "evening"), None),
    "favourite_store_share": Vocab("na loja favorita", "at the favourite store", "share",
                                   ("fiéis a uma loja", "one-store"), ("várias lojas", "many stores")),
    "stores_visited": Vocab("lojas visitadas", "stores visited", "number", ("várias lojas", "many stores"),
                            ("poucas lojas", "few stores")),
    "promo_share": Vocab("em promoção", "on promotion", "share", ("promoções", "promotions"),
                         ("preço cheio", "full price")),
    "visit_days": Vocab("dias de visita", "visit days", "count", ("muitas visitas", "many visits"),
                        ("poucas visitas", "few visits")),
    "avg_dwell_minutes": Vocab("permanência", "dwell", "minutes", ("visitas longas", "long visits"),
                               ("visitas rápidas", "quick visits")),
    "app_share": Vocab("pelo app", "through the app", "share", ("usam o app", "app users"),
                       ("pouco app", "little app use")),
    "subscriptions_active": Vocab("assinaturas", "subscriptions", "number", ("assinantes", "subscribers"), None),
    "age_years": Vocab("idade", "age", "years", ("mais velhos", "older"), ("mais jovens", "younger")),
}
"""Labels of the person-feature columns of the data contract; other columns read as their own names."""

WORDS: dict[str, tuple[str, str]] = {
    "alimentacao": ("alimentação", "food"), "farmacia": ("farmácia", "pharmacy"), "infantil": ("infantil", "kids"),
    "eletronicos": ("eletrônicos", "electronics"), "moda": ("moda", "fashion"), "beleza": ("beleza", "beauty"),
    "supermercado": ("supermercado", "grocery"), "joalheria": ("joalheria", "jewelry"), "academia": ("academia", "gym"),
    "livraria": ("livraria", "books"), "otica": ("ótica", "optics"), "brinquedos": ("brinquedos", "toys"),
    "calcados": ("calçados", "shoes"), "acougue": ("açougue", "butcher"), "padaria": ("padaria", "bakery"),
    "bebidas": ("bebidas", "drinks"), "hortifruti": ("hortifrúti", "produce"), "limpeza": ("limpeza", "cleaning"),
    "higiene": ("higiene", "personal care"), "mercearia": ("mercearia", "grocery"), "grocery": ("mercearia", "grocery"),
    "produce": ("hortifrúti", "produce"), "bakery": ("padaria", "bakery"), "dairy": ("laticínios", "dairy"),
    "beverages": ("bebidas", "beverages"), "household": ("casa", "household"), "pharmacy": ("farmácia", "pharmacy"),
    "electronics": ("eletrônicos", "electronics"), "toys": ("brinquedos", "toys"), "baby": ("bebê", "baby"),
    "wine": ("vinhos", "wine"), "snacks": ("salgadinhos", "snacks"), "books": ("livros", "books"),
    "stationery": ("papelaria", "stationery"), "papelaria": ("papelaria", "stationery"), "fashion": ("moda", "fashion"),
    "beauty": ("beleza", "beauty"), "jewelry": ("joalheria", "jewelry"), "frozen": ("congelados", "frozen"),
    "cleaning": ("limpeza", "cleaning"), "deli": ("frios", "deli"), "meat": ("carnes", "meat"),
    "seafood": ("peixes", "seafood"), "sweets": ("doces", "sweets"), "personal_care": ("higiene", "personal care"),
}
"""Category slugs whose display differs by language (accents restored, translated); others show as written."""


DESCRIBE_Z = 0.25
"""A feature closer than this to everyone's mean (in standard deviations) is not worth quoting."""
AVERAGE = ("Perfil médio", "Average profile")


def right_skewed(values: np.ndarray) -> bool:
    """Whether a column reads better on a log scale: non-negative, beyond 0-1, and right-skewed (money, counts)."""
    known = values[~np.isnan(values)]
    return len(known) > 2 and known.min() >= 0 and known.max() > 1 and pd.Series(known).skew() > 1


def analysis_scale(values: pd.Series, log: bool) -> np.ndarray:
    """The column as floats, on the log scale when `log` (unknowns stay NaN)."""
    array = values.to_numpy(dtype=float, na_value=np.nan)
    return np.log1p(np.clip(array, 0, None)) if log else array


def profile_features(persons: pd.DataFrame, segment_ids: np.ndarray) -> pd.DataFrame:
    """Long profile: each segment's mean of every numeric feature against the clustered persons' mean, and its z.

    Means are in the feature's own units; z compares on the log scale for right-skewed columns (`right_skewed`).
    """
    columns = [c for c in persons.columns if c not in NOT_PROFILED and persons[c].notna().any()
               and pd.api.types.is_numeric_dtype(persons[c]) and not pd.api.types.is_bool_dtype(persons[c])]
    clustered = segment_ids != TOO_LITTLE_DATA
    codes, segments = pd.factorize(segment_ids, sort=True)
    parts = []
    for c in columns:
        raw = persons[c].to_numpy(dtype=float, na_value=np.nan)
        scaled = analysis_scale(persons[c], right_skewed(raw[clustered]))
        centre, spread = _moments(scaled[clustered])
        z = (_group_mean(scaled, codes, len(segments)) - centre) / spread if spread > 0 else 0.0
        parts.append(pd.DataFrame({"segment_id": segments, "feature": c, "mean": _group_mean(raw, codes, len(segments)),
                                   "overall_mean": _moments(raw[clustered])[0], "z": z}))
    if not parts:
        return pd.DataFrame(columns=PROFILE_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)[PROFILE_COLUMNS]
    return frame.sort_values(["segment_id", "feature"], kind="stable").reset_index(drop=True)


def _moments(values: np.ndarray) -> tuple[float, float]:
    known = values[~np.isnan(values)]
    return (float(known.mean()), float(known.std())) if len(known) else (np.nan, np.nan)


def _group_mean(values: np.ndarray, codes: np.ndarray, groups: int) -> np.ndarray:
    known = ~np.isnan(values)
    total = np.bincount(codes[known], weights=values[known], minlength=groups)
    count = np.bincount(codes[known], minlength=groups)
    return np.divide(total, count, out=np.full(groups, np.nan), where=count > 0)


def category_slug(column: str) -> str | None:
    """The slug of a `cat_<slug>_share` column, or None for any other column."""
    match = re.fullmatch(r"cat_(.+)_share", column)
    return match.group(1) if match else None


def category_groups(columns: Iterable[str]) -> dict[str, list[str]]:
    """The category columns of each marketing group of `GROUPS`, by word stems over the slugs."""
    found: dict[str, list[str]] = {}
    for column in columns:
        slug = category_slug(column)
        if slug is None:
            continue
        words = slug.split("_")
        for group, stems in GROUPS.items():
            if any(_stem_matches(stem, slug, words) for stem in stems):
                found.setdefault(group, []).append(column)
    return found


def _stem_matches(stem: str, slug: str, words: list[str]) -> bool:
    if "_" in stem:
        return stem in slug
    if len(stem) >= 5:
        return any(word.startswith(stem) for word in words)
    return any(word in (stem, stem + "s", stem + "es") for word in words)


def vocab(feature: str) -> Vocab:
    """How `feature` reads: the contract's vocabulary, a category's display words, or the column name itself."""
    if feature in VOCAB:
        return VOCAB[feature]
    slug = category_slug(feature)
    if slug is not None:
        pt, en = WORDS.get(slug, (slug.replace("_", " "),) * 2)
        return Vocab(pt, en, "share", (pt, en), None)
    return Vocab(feature, feature, "number", (f"{feature} alto", f"high {feature}"),
                 (f"{feature} baixo", f"low {feature}"))


def z_table(feature_profile: pd.DataFrame) -> pd.DataFrame:
    """The long profile (segment_id, feature, z) as segments by features, unknown z read as average (0)."""
    wide = feature_profile.pivot(index="segment_id", columns="feature", values="z")
    return wide.fillna(0.0).rename_axis(columns=None)


def signal_table(z: pd.DataFrame) -> pd.DataFrame:
    """`z` plus one `group:<name>` column per matched category group: the group's strongest category."""
    groups = {f"group:{name}": z[cols].max(axis=1) for name, cols in category_groups(z.columns).items()}
    return z.assign(**groups)


def persona_scores(z: pd.DataFrame) -> pd.DataFrame:
    """Score every persona on every segment; -inf where a gate fails or none of a gate's features is present.

    Args:
        z: Segments (index) by features (columns), each the segment's mean minus everyone's, in everyone's
            standard deviations.

    Returns:
        Segments by persona (English name): the sum of |weight| times the z in the wanted direction, capped at
        `Z_CAP`; a missing feature adds nothing.
    """
    signals = signal_table(z)
    scores = {}
    for persona in PERSONAS:
        present = {f: w for f, w in persona.signals.items() if f in signals}
        wanted = pd.DataFrame({f: np.sign(w) * signals[f] for f, w in present.items()}, index=z.index)
        total = sum((wanted[f].clip(upper=Z_CAP) * abs(w) for f, w in present.items()), pd.Series(0.0, z.index))
        scores[persona.en] = total.where(_gates_hold(wanted, persona), -np.inf)
    return pd.DataFrame(scores, index=z.index)


def _gates_hold(wanted: pd.DataFrame, persona: Persona) -> pd.Series:
    held = pd.Series(True, index=wanted.index)
    for gate in persona.gates:
        present = [f for f in gate if f in wanted]
        held &= wanted[present].ge(GATE_Z).any(axis=1) if present else False
    return held


def name_segments(feature_profile: pd.DataFrame, describable: Iterable[str]) -> pd.DataFrame:
    """Names for each segment: the best one-to-one persona, else a descriptive name; unique within the run.

    Args:
        feature_profile: Long profile with `segment_id`, `feature` and `z` (see `segments.Segmentation`).
        describable: Features a descriptive name may quote (those the segments were found on).

    Returns:
        One row per segment: `segment_id`, `segment_name_pt`, `segment_name_en`.
    """
    z = z_table(feature_profile)
    scores = persona_scores(z)
    rows, cols = linear_sum_assignment(scores.replace(-np.inf, -1e6).to_numpy(), maximize=True)
    by_en = {p.en: p for p in PERSONAS}
    named = {z.index[r]: (by_en[scores.columns[c]].pt, by_en[scores.columns[c]].en)
             for r, c in zip(rows, cols, strict=True) if scores.iat[r, c] >= MIN_SCORE}
    taken = set(named.values())
    focus = z[[f for f in describable if f in z.columns]]
    for segment in z.index.difference(list(named)):
        named[segment] = descriptive_name(focus.loc[segment], taken)
        taken.add(named[segment])
    return pd.DataFrame([(s, *named[s]) for s in z.index], columns=["segment_id", "segment_name_pt", "segment_name_en"])


def descriptive_name(z: pd.Series, taken: set[tuple[str, str]]) -> tuple[str, str]:
    """A (pt, en) name from the two most distinguishing features ("Ticket alto, noite"), not one in `taken`.

    The next pair of features is tried when a name is taken, and a number is added as the last resort.
    """
    order = z.abs().sort_values(ascending=False, kind="stable").index
    words = [w for f in order if (w := _word(f, z[f])) is not None]
    if len(words) >= 2:
        names = [_joined((a, b)) for i, a in enumerate(words) for b in words[i + 1:]]
    else:
        names = [_joined(tuple(words))] if words else [AVERAGE]
    free = [name for name in names if name not in taken]
    if free:
        return free[0]
    n = 2
    while (f"{names[0][0]} ({n})", f"{names[0][1]} ({n})") in taken:
        n += 1
    return f"{names[0][0]} ({n})", f"{names[0][1]} ({n})"


def _word(feature: str, z: float) -> tuple[str, str] | None:
    if abs(z) < DESCRIBE_Z:
        return None
    words = vocab(feature)
    return words.high if z > 0 else words.low


def _joined(words: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    pt, en = (", ".join(w[i] for w in words) for i in (0, 1))
    return pt[:1].upper() + pt[1:], en[:1].upper() + en[1:]


def distinguishing(feature_profile: pd.DataFrame, describable: Iterable[str]) -> pd.DataFrame:
    """What sets each segment apart, as text: its `DISTINGUISHING` strongest features against everyone.

    Args:
        feature_profile: Long profile with `segment_id`, `feature`, `mean`, `overall_mean` and `z`.
        describable: Features the text may quote.

    Returns:
        One row per segment: `segment_id`, `distinguishing_pt` ("fim de semana 74% vs 38%; ticket médio R$ 210 vs
        R$ 95"), `distinguishing_en`.
    """
    rows = feature_profile[feature_profile["feature"].isin(list(describable))]
    rows = rows.assign(strength=rows["z"].abs()).query("strength >= @DESCRIBE_Z")
    top = rows.sort_values(["segment_id", "strength"], ascending=[True, False], kind="stable")
    top = top.groupby("segment_id").head(DISTINGUISHING)
    out = []
    for segment in feature_profile["segment_id"].unique():
        mine = top[top["segment_id"] == segment]
        texts = [_compare(mine, lang) or fallback for lang, fallback in
                 (("pt", "perto da média em tudo"), ("en", "close to the average on everything"))]
        out.append((segment, *texts))
    return pd.DataFrame(out, columns=["segment_id", "distinguishing_pt", "distinguishing_en"])


def _compare(rows: pd.DataFrame, lang: str) -> str:
    parts = []
    for feature, mean, overall in rows[["feature", "mean", "overall_mean"]].itertuples(index=False):
        words = vocab(feature)
        label = words.pt if lang == "pt" else words.en
        parts.append(f"{label} {format_value(mean, words.unit, lang)} vs {format_value(overall, words.unit, lang)}")
    return "; ".join(parts)


def format_value(value: float, unit: str, lang: str) -> str:
    """A value as a reader expects it: 74%, R$ 1.234 (pt) / R$ 1,234 (en), 12 dias, 95 min, 2,6 (pt) / 2.6 (en)."""
    if pd.isna(value):
        return "—"
    if unit == "share":
        return f"{value:.0%}"
    text = number(value, lang, 1 if unit == "number" and abs(value) < 10 else 0)
    suffix = {"money": ("R$ {}", "R$ {}"), "days": ("{} dias", "{} days"), "minutes": ("{} min", "{} min"),
              "years": ("{} anos", "{} years")}.get(unit, ("{}", "{}"))
    return suffix[0 if lang == "pt" else 1].format(text)
