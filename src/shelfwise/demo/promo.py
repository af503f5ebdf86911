"""The chain's trade-marketing calendar and the true effect of each campaign on demand.

Campaigns are planned the way a retailer does: themed weeks, seasonal dates, the big peaks (Black Friday,
Christmas), a few overlapping actions and some planned for after the data ends. Their true effect is kept
as separate multiplicative layers (lift, post-promotion dip, cannibalisation) so the truth can report each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from shelfwise.demo.catalog import CHAIN_NAME, ELASTICITY, PANTRY_CATEGORIES
from shelfwise.demo.seasons import black_friday

DIP_DAYS = 7
TYPE_LIFT = {"discount": 1.0, "display": 1.15, "bundle": 0.9}
CHANNELS = ("encarte", "app", "rádio", "redes sociais", "tabloide", "ponta de gôndola")

# name, products ("cat:x" = pick from category x), month anchor (None, 1..12 or "easter"), type
_THEMES: tuple[tuple[str, tuple[str, ...], int | str | None, str], ...] = (
    ("Semana da Limpeza", ("cat:limpeza",), None, "discount"),
    ("Higiene em Oferta", ("cat:higiene",), None, "discount"),
    ("Festival da Cerveja", ("Cerveja Lata 350ml", "Cerveja Long Neck 355ml", "Linguiça Toscana 1kg"), 1,
     "display"),
    ("Churrasco de Verão", ("Linguiça Toscana 1kg", "Refrigerante Guaraná 2L", "Água Mineral 1,5L"), 2, "bundle"),
    ("Feira de Hortifrúti", ("cat:hortifruti",), None, "display"),
    ("Massas & Molhos", ("Macarrão Espaguete 500g", "Molho de Tomate 340g", "Queijo Mussarela Fatiado 150g"),
     5, "bundle"),
    ("Quinzena dos Laticínios", ("cat:laticínios",), None, "discount"),
    ("Congelados de Inverno", ("Pizza Congelada Mussarela 460g", "Pão de Queijo Congelado 1kg",
                               "Lasanha Congelada 600g"), 7, "discount"),
    ("Arraiá Paulistano", ("Milho de Pipoca 500g", "Leite Condensado 395g", "Bolo de Fubá 400g"), 6, "display"),
    ("Páscoa Paulistana", ("Ovo de Páscoa 200g", "Atum em Lata 170g", "Sardinha em Lata 125g"), "easter",
     "discount"),
    ("Volta às Aulas", ("Biscoito Recheado Chocolate 140g", "Achocolatado em Pó 400g", "Suco de Laranja 1L"), 2,
     "discount"),
    ("Mês do Consumidor", ("Arroz Tipo 1 5kg", "Feijão Carioca 1kg", "Óleo de Soja 900ml", "Açúcar Refinado 1kg"),
     3, "discount"),
    ("Aniversário da Rede", ("cat:mercearia",), 9, "discount"),
    ("Hidratação de Verão", ("Água Mineral 500ml", "Suco de Laranja 1L", "Energético Lata 250ml"), 12, "display"),
    ("Sorvete em Dobro", ("Sorvete Pote 1,5L", "Picolé de Frutas"), 1, "discount"),
    ("Frios Selecionados", ("cat:frios",), None, "display"),
)
_BLACK_FRIDAY_POOL = ("cat:mercearia", "cat:bebidas", "cat:limpeza", "cat:higiene")
_CHRISTMAS_POOL = ("Panetone 500g", "Panetone Trufado 700g", "Cerveja Long Neck 355ml", "Refrigerante Cola 2L",
                   "Leite Condensado 395g", "Presunto Cozido Fatiado 200g")
_OVERLAP = (
    ("Café da Manhã Completo", ("Café Torrado 500g", "Pão de Forma 500g", "Manteiga com Sal 200g"), "bundle"),
    ("Festival do Café", ("Café Torrado 500g", "Açúcar Refinado 1kg"), "discount"),
)
_FUTURE = (
    ("Esquenta Black Friday", ("cat:bebidas", "cat:mercearia"), "discount"),
    ("Limpeza de Fim de Ano", ("cat:limpeza",), "discount"),
)


@dataclass
class PromoEffects:
    """True promotion layers over every (day, store, product) of the observed and future days."""

    lift: np.ndarray
    discount: np.ndarray
    campaign: np.ndarray
    dip: np.ndarray
    cannibal: np.ndarray

    def multiplier(self) -> np.ndarray:
        """Factor turning the baseline into expected demand."""
        return (1 + self.lift) * self.dip * self.cannibal


class _Planner:
    """Places campaigns on free (store, product) cells so only the intended pair overlaps."""

    def __init__(self, rng: np.random.Generator, days: pd.DatetimeIndex, n_obs: int, products: pd.DataFrame,
                 n_stores: int, baseline: np.ndarray) -> None:
        self.rng, self.days, self.n_obs, self.products = rng, days, n_obs, products
        self.n_stores = n_stores
        self.baseline = baseline
        self.busy = np.zeros((len(days), n_stores, len(products)), dtype=bool)
        self.rows: list[dict] = []
        regular = products["base"] >= 1.0
        self.by_name = {n: i for i, n in enumerate(products["name"])}
        self.by_cat = {c: np.flatnonzero(regular & (products["category"] == c)) for c in products["category"]}

    def pick_products(self, pool: tuple[str, ...], low: int = 2, high: int = 6) -> np.ndarray:
        if all(not p.startswith("cat:") for p in pool):
            ids = np.array([self.by_name[p] for p in pool])
            k = int(self.rng.integers(max(2, min(low, len(ids))), len(ids) + 1))
            return np.sort(self.rng.choice(ids, size=k, replace=False))
        candidates = np.concatenate([self.by_cat[p[4:]] for p in pool])
        k = int(self.rng.integers(low, min(high, len(candidates)) + 1))
        return np.sort(self.rng.choice(candidates, size=k, replace=False))

    def pick_stores(self, low: int = 2, high: int = 4) -> np.ndarray:
        k = int(self.rng.integers(low, high + 1))
        return np.sort(self.rng.choice(self.n_stores, size=k, replace=False))

    def fits(self, start: int, length: int, stores: np.ndarray, prods: np.ndarray, *, future: bool) -> bool:
        end = start + length - 1
        lo, hi = (self.n_obs + 1, len(self.days) - 1) if future else (14, self.n_obs - 12)
        if start < lo or end > hi:
            return False
        window = self.busy[max(0, start - 3): end + DIP_DAYS + 1][:, stores][:, :, prods]
        in_stock = self.baseline[start: end + 1][:, stores][:, :, prods].min() > 0
        return in_stock and not window.any()

    def add(self, name: str, start: int, length: int, stores: np.ndarray, prods: np.ndarray, kind: str,
            discount: int, occasion: str, *, mark: bool = True) -> None:
        if mark:
            idx = np.ix_(np.arange(start, start + length + DIP_DAYS), stores, prods)
            self.busy[idx] = True
        self.rows.append(dict(name=name, start=start, end=start + length - 1, stores=stores, products=prods,
                              type=kind, discount_pct=discount, occasion=occasion,
                              is_future=start >= self.n_obs))

    def place(self, name: str, pool: tuple[str, ...], kind: str, discount: int, starts: list[int],
              occasion: str, *, future: bool = False) -> bool:
        for start in starts:
            length = int(self.rng.integers(7, 15))
            stores, prods = self.pick_stores(), self.pick_products(pool)
            if self.fits(start, length, stores, prods, future=future):
                self.add(name, start, length, stores, prods, kind, discount, occasion)
                return True
        return False


def plan_campaigns(rng: np.random.Generator, days: pd.DatetimeIndex, n_obs: int, products: pd.DataFrame,
                   stores: pd.DataFrame, baseline: np.ndarray) -> pd.DataFrame:
    """The chain's campaign calendar: peaks first, then the overlapping pair, themes, and two planned ones."""
    plan = _Planner(rng, days, n_obs, products, len(stores), baseline)
    index = pd.Series(np.arange(len(days)), index=days)
    _place_peaks(plan, index)
    _place_overlap(plan)
    for name, pool, anchor, kind in _THEMES:
        starts = _anchored_starts(rng, index, n_obs, anchor)
        plan.place(name, pool, kind, int(rng.choice([10, 15, 20, 25, 30])), starts, "tema")
    for k, (name, pool, kind) in enumerate(_FUTURE):
        start = n_obs + 6 + 12 * k
        plan.place(name, pool, kind, int(rng.choice([20, 25, 30])), [start + j for j in range(5)], "planejada",
                   future=True)
    return _campaign_frame(rng, plan.rows, days, products, stores)


def _place_peaks(plan: _Planner, index: pd.Series) -> None:
    years = range(plan.days[0].year, plan.days[-1].year + 1)
    for year in years:
        bf = pd.Timestamp(black_friday(year))
        if bf in index.index:
            start = int(index[bf]) - 4
            for _ in range(20):
                stores, prods = plan.pick_stores(3, 4), plan.pick_products(_BLACK_FRIDAY_POOL, 4, 6)
                if plan.fits(start, 7, stores, prods, future=False):
                    discount = int(plan.rng.choice([25, 30, 35]))
                    plan.add(f"Black Friday {CHAIN_NAME} {year}", start, 7, stores, prods, "discount", discount,
                             "black_friday")
                    break
        xmas = pd.Timestamp(date(year, 12, 14))
        if xmas in index.index:
            for _ in range(20):
                stores, prods = plan.pick_stores(3, 4), plan.pick_products(_CHRISTMAS_POOL, 4, 6)
                if plan.fits(int(index[xmas]), 11, stores, prods, future=False):
                    discount = int(plan.rng.choice([15, 20, 25]))
                    plan.add(f"Natal Paulistano {year}", int(index[xmas]), 11, stores, prods, "display", discount,
                             "natal")
                    break


def _place_overlap(plan: _Planner) -> None:
    """Two campaigns sharing a product and a store on overlapping days, deliberately."""
    (name_a, pool_a, kind_a), (name_b, pool_b, kind_b) = _OVERLAP
    prods_a = np.array(sorted(plan.by_name[p] for p in pool_a))
    prods_b = np.array(sorted(plan.by_name[p] for p in pool_b))
    for _ in range(200):
        start = int(plan.rng.integers(int(plan.n_obs * 0.3), int(plan.n_obs * 0.7)))
        stores_a = plan.pick_stores(3, 3)
        other = plan.rng.choice(np.setdiff1d(np.arange(plan.n_stores), stores_a[:1]))
        stores_b = np.sort(np.r_[stores_a[:1], other])
        if plan.fits(start, 10, stores_a, prods_a, future=False) and plan.fits(start + 4, 8, stores_b, prods_b,
                                                                                future=False):
            plan.add(name_a, start, 10, stores_a, prods_a, kind_a, 15, "sobreposta")
            plan.add(name_b, start + 4, 8, stores_b, prods_b, kind_b, 25, "sobreposta")
            return
    raise RuntimeError("could not place the overlapping campaign pair")


def _anchored_starts(rng: np.random.Generator, index: pd.Series, n_obs: int, anchor: int | str | None) -> list[int]:
    """Candidate start days for a theme: in its month (or before Easter) of any year, else anywhere."""
    days = index.index[:n_obs]
    if anchor is None:
        return [int(x) for x in rng.integers(14, n_obs - 30, size=60)]
    if anchor == "easter":
        import holidays

        fridays = holidays.Brazil(years=range(days[0].year, days[-1].year + 1))
        easters = [d + timedelta(days=2) for d, n in fridays.items() if n == "Good Friday"]
        starts = [int(index[pd.Timestamp(e)]) - 12 for e in easters if pd.Timestamp(e) in index.index]
    else:
        starts = [int(i) for i in np.flatnonzero((days.month == anchor) & (days.day <= 18))]
    rng.shuffle(starts)
    return starts[:60]


def _campaign_frame(rng: np.random.Generator, rows: list[dict], days: pd.DatetimeIndex, products: pd.DataFrame,
                    stores: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(rows).sort_values(["start", "name"]).reset_index(drop=True)
    frame.insert(0, "campaign_id", [f"CMP-{i:03d}" for i in range(1, len(frame) + 1)])
    frame["start_date"] = days[frame["start"]]
    frame["end_date"] = days[frame["end"]]
    frame["channel"] = rng.choice(CHANNELS, size=len(frame))
    n_cells = frame["stores"].map(len) * frame["products"].map(len)
    frame["cost"] = np.round(rng.uniform(2_000, 6_000, len(frame)) + 250 * n_cells, -2)
    frame["product_ids"] = frame["products"].map(lambda ix: list(products["product_id"].to_numpy()[ix]))
    frame["store_ids"] = frame["stores"].map(lambda ix: list(stores["store_id"].to_numpy()[ix]))
    return frame


def promo_cells(rng: np.random.Generator, campaigns: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Every (campaign, store, product) with its planted true lift: depth x category response x noise."""
    parts = []
    for c in campaigns.itertuples():
        s_idx, p_idx = np.meshgrid(c.stores, c.products, indexing="ij")
        parts.append(pd.DataFrame({"campaign": c.Index, "store": s_idx.ravel(), "product": p_idx.ravel()}))
    cells = pd.concat(parts, ignore_index=True)
    cats = products["category"].to_numpy()[cells["product"]]
    camp = campaigns.loc[cells["campaign"]]
    response = np.array([ELASTICITY[c] for c in cats]) * camp["discount_pct"].to_numpy() / 10
    response *= camp["type"].map(TYPE_LIFT).to_numpy()
    cells["lift"] = np.clip(response * np.exp(rng.normal(0, 0.18, len(cells))), 0.15, 1.6)
    cells["category"] = cats
    return cells


def promo_effects(campaigns: pd.DataFrame, cells: pd.DataFrame, shape: tuple[int, int, int],
                  categories: np.ndarray) -> PromoEffects:
    """Lay the campaigns over the calendar: the strongest active campaign wins a cell (discounts never stack)."""
    lift, discount = np.zeros(shape), np.zeros(shape)
    campaign = np.full(shape, -1, dtype=np.int64)
    dip, cannibal = np.ones(shape), np.ones(shape)
    n_days = shape[0]
    for cell in cells.itertuples():
        c = campaigns.loc[cell.campaign]
        sl = slice(c["start"], c["end"] + 1)
        stronger = cell.lift > lift[sl, cell.store, cell.product]
        lift[sl, cell.store, cell.product][stronger] = cell.lift
        discount[sl, cell.store, cell.product][stronger] = c["discount_pct"]
        campaign[sl, cell.store, cell.product][stronger] = cell.campaign
        if cell.category in PANTRY_CATEGORIES:
            post = np.arange(c["end"] + 1, min(c["end"] + 1 + DIP_DAYS, n_days))
            depth = min(0.45, 0.45 * cell.lift)
            dip[post, cell.store, cell.product] *= 1 - depth * (DIP_DAYS - np.arange(len(post))) / DIP_DAYS
    for c in campaigns.itertuples():
        cats = set(categories[c.products])
        others = np.flatnonzero(np.isin(categories, list(cats)) & ~np.isin(np.arange(len(categories)), c.products))
        loss = 0.01 + 0.03 * c.discount_pct / 35
        idx = np.ix_(np.arange(c.start, c.end + 1), c.stores, others)
        cannibal[idx] *= 1 - loss
    promoted = campaign >= 0
    dip[promoted] = 1.0
    cannibal[promoted] = 1.0
    return PromoEffects(lift=lift, discount=discount, campaign=campaign, dip=dip, cannibal=cannibal)
