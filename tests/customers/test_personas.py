"""Persona rules on hand-made segment profiles: the signature decides the name, in Portuguese and English."""

import pandas as pd
import pytest

from shelfwise.customers.personas import (
    category_groups,
    distinguishing,
    format_value,
    name_segments,
    persona_scores,
)


def profile(z: dict[int, dict[str, float]]) -> pd.DataFrame:
    """A long feature profile from segment -> {feature: z}; absent features read as average."""
    features = sorted({f for row in z.values() for f in row})
    rows = [(s, f, z[s].get(f, 0.0)) for s in z for f in features]
    return pd.DataFrame(rows, columns=["segment_id", "feature", "z"]).assign(mean=1.0, overall_mean=1.0)


def names(z: dict[int, dict[str, float]]) -> dict[int, tuple[str, str]]:
    frame = profile(z)
    named = name_segments(frame, frame["feature"].unique())
    return {row.segment_id: (row.segment_name_pt, row.segment_name_en) for row in named.itertuples()}


def test_category_groups_come_from_the_words_of_the_slugs_in_either_language():
    columns = ["cat_infantil_brinquedos_share", "cat_eletronicos_games_share", "cat_toys_share",
               "cat_hipermercado_share", "cat_drogaria_share", "cat_pet_shop_share", "cat_laranja_share",
               "cat_petiscos_share", "cat_acomodacao_share", "avg_ticket"]
    groups = category_groups(columns)
    assert groups["family"] == ["cat_infantil_brinquedos_share", "cat_toys_share"]
    assert groups["electronics"] == groups["entertainment"] == ["cat_eletronicos_games_share"]
    assert groups["grocery"] == ["cat_hipermercado_share"]
    assert groups["health"] == ["cat_drogaria_share"]
    assert groups["pet"] == ["cat_pet_shop_share"]
    grouped = {c for found in groups.values() for c in found}
    assert not grouped & {"cat_laranja_share", "cat_petiscos_share", "cat_acomodacao_share"}  # lar, pet, moda


def test_each_signature_gets_its_persona():
    assert names({
        0: {"avg_ticket": 1.6, "cat_joalheria_share": 1.0, "promo_share": -0.4},
        1: {"promo_share": 1.5, "avg_ticket": -0.6},
        2: {"weekend_share": 1.3, "cat_brinquedos_share": 1.2, "avg_dwell_minutes": 0.8},
        3: {"cat_cinema_share": 1.2, "hour_evening_share": 1.0, "age_years": -1.1},
        4: {"weekend_share": -1.3, "cat_supermercado_share": 1.0, "avg_dwell_minutes": -1.0},
        5: {"receipts_per_month": -1.4, "recency_days": 0.3},
        6: {"recency_days": 1.5, "receipts": 0.4},
    }) == {0: ("Premium", "Premium"), 1: ("Caçador de ofertas", "Deal hunter"),
           2: ("Família de fim de semana", "Weekend family"), 3: ("Jovem entretenimento", "Young entertainment"),
           4: ("Rotina de semana", "Weekday routine"), 5: ("Ocasionais", "Occasional"), 6: ("Em risco", "At risk")}


def test_grocery_missions_and_category_personas_in_english_slugs():
    assert names({
        0: {"avg_ticket": 1.2, "receipts_per_month": -1.1, "cat_grocery_share": 0.5},
        1: {"receipts_per_month": 1.3, "avg_ticket": -1.2},
        2: {"cat_pharmacy_share": 1.4},
        3: {"cat_pet_food_share": 1.5},
        4: {"cat_household_share": 1.2},
    }) == {0: ("Compra do mês", "Monthly stock-up"), 1: ("Reposição rápida", "Quick top-up"),
           2: ("Saúde e bem-estar", "Health & wellness"), 3: ("Tutores de pet", "Pet parents"),
           4: ("Casa e decoração", "Home makers")}


def test_a_rule_goes_to_the_segment_it_fits_best_and_the_other_is_described():
    named = names({0: {"avg_ticket": 0.9}, 1: {"avg_ticket": 2.0, "cat_joias_share": 1.2}})
    assert named[1] == ("Premium", "Premium")
    assert named[0] == ("Ticket alto", "High ticket")


def test_gates_hold_evening_alone_is_not_young_entertainment():
    scores = persona_scores(profile({0: {"hour_evening_share": 1.5}, 1: {"cat_cinema_share": 0.1}}).pivot(
        index="segment_id", columns="feature", values="z"))
    assert scores["Young entertainment"].eq(float("-inf")).all()
    assert names({0: {"hour_evening_share": 1.5, "app_share": -0.2}, 1: {"hour_morning_share": 1.2}}) == {
        0: ("Noite", "Evening"), 1: ("Manhã", "Morning")}


def test_descriptive_names_are_unique_and_an_average_segment_says_so():
    named = names({
        0: {"hour_morning_share": 0.9, "cat_papelaria_share": 0.8, "hour_lunch_share": 0.3},
        1: {"hour_morning_share": 0.9, "cat_papelaria_share": 0.8, "hour_evening_share": 0.4},
        2: {"hour_morning_share": 0.1},
    })
    assert named[0] == ("Manhã, papelaria", "Morning, stationery")
    assert named[1] == ("Manhã, noite", "Morning, evening")
    assert named[2] == ("Perfil médio", "Average profile")


def test_distinguishing_text_reads_like_a_report():
    frame = pd.DataFrame({
        "segment_id": [0, 0, 0], "feature": ["weekend_share", "avg_ticket", "app_share"],
        "mean": [0.74, 210.0, 0.5], "overall_mean": [0.38, 95.0, 0.49], "z": [1.5, 1.2, 0.02]})
    text = distinguishing(frame, ["weekend_share", "avg_ticket", "app_share"]).iloc[0]
    assert text["distinguishing_pt"] == "fim de semana 74% vs 38%; ticket médio R$ 210 vs R$ 95"
    assert text["distinguishing_en"] == "weekend 74% vs 38%; average ticket R$ 210 vs R$ 95"


@pytest.mark.parametrize("value, unit, pt, en", [
    (1234.5, "money", "R$ 1.234", "R$ 1,234"), (2.64, "number", "2,6", "2.6"), (12.0, "days", "12 dias", "12 days"),
    (0.745, "share", "74%", "74%"), (95.2, "minutes", "95 min", "95 min"), (float("nan"), "money", "—", "—"),
])
def test_values_are_written_the_way_each_language_reads_them(value, unit, pt, en):
    assert (format_value(value, unit, "pt"), format_value(value, unit, "en")) == (pt, en)
