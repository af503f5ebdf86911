"""A plan's forecast and its support in words, Portuguese or English, for the analyst."""

from __future__ import annotations

from shelfwise.messages import number

TEXTS: dict[str, dict[str, str]] = {
    "not_enough_history": {
        "pt": "Histórico insuficiente para prever a promoção: {found} campanha(s) medida(s) com status 'ok', são "
              "necessárias pelo menos {needed}. Meça mais campanhas (shelfwise promo lift) e tente de novo",
        "en": "Not enough history to predict the promotion: {found} measured campaign(s) with status 'ok', at "
              "least {needed} needed. Measure more campaigns (shelfwise promo lift) and try again",
    },
    "summary.lift": {"pt": "Lift previsto: {lift}% (intervalo {level}%: {low}% a {high}%)",
                     "en": "Predicted lift: {lift}% ({level}% interval: {low}% to {high}%)"},
    "summary.units": {"pt": "Unidades incrementais: {value} ({low} a {high}) sobre uma base de {baseline}",
                      "en": "Incremental units: {value} ({low} to {high}) over a baseline of {baseline}"},
    "summary.revenue": {"pt": "Receita incremental: R$ {value} (R$ {low} a R$ {high})",
                        "en": "Incremental revenue: R$ {value} (R$ {low} to R$ {high})"},
    "summary.margin": {"pt": "Margem incremental: R$ {value} (R$ {low} a R$ {high})",
                       "en": "Incremental margin: R$ {value} (R$ {low} to R$ {high})"},
    "summary.roi": {
        "pt": "ROI bruto (margem incremental − custo) ÷ custo: {gross}% ({gross_low}% a {gross_high}%); ROI "
              "líquido, descontando a queda pós-promoção e a canibalização: {net}% ({net_low}% a {net_high}%); "
              "custo R$ {cost}",
        "en": "Gross ROI (incremental margin − cost) ÷ cost: {gross}% ({gross_low}% to {gross_high}%); net ROI, "
              "after the post-promotion dip and cannibalisation: {net}% ({net_low}% to {net_high}%); "
              "cost R$ {cost}",
    },
    "summary.no_cost": {"pt": "Sem custo da campanha (--cost), o ROI não foi calculado",
                        "en": "No campaign cost given (--cost), so no ROI"},
    "support.base": {
        "pt": "Baseado em {campaigns} campanhas ({cells} células): {category} nas mesmas categorias, {type} do "
              "mesmo tipo, {discount} com desconto a até ±{points} pontos, {comparable} com as três coisas",
        "en": "Based on {campaigns} campaigns ({cells} cells): {category} in the same categories, {type} of the "
              "same type, {discount} with a discount within ±{points} points, {comparable} with all three",
    },
    "support.check": {
        "pt": "Deixando uma campanha de fora por vez, os intervalos de {level}% cobriram {coverage}% das campanhas; "
              "erro médio do lift {mae} pontos",
        "en": "Leaving one campaign out at a time, {level}% intervals covered {coverage}% of the campaigns; mean "
              "lift error {mae} points",
    },
    "support.confidence": {"pt": "Confiança: {word}", "en": "Confidence: {word}"},
    "confidence.high": {"pt": "alta", "en": "high"},
    "confidence.medium": {"pt": "média", "en": "medium"},
    "confidence.low": {"pt": "baixa", "en": "low"},
    "warning.new_category": {
        "pt": "Atenção: categoria(s) nunca promovida(s): {categories}; a previsão vem das outras categorias, por "
              "isso o intervalo é mais largo",
        "en": "Warning: category(ies) never promoted: {categories}; the prediction leans on the other categories, "
              "hence the wider interval",
    },
    "warning.new_type": {"pt": "Atenção: tipo de promoção nunca medido: {types}",
                         "en": "Warning: promotion type never measured: {types}"},
    "warning.extrapolated_discount": {
        "pt": "Atenção: o desconto planejado ({discounts}%) está fora dos descontos já vistos ({low}% a {high}%); o "
              "modelo extrapola",
        "en": "Warning: the planned discount ({discounts}%) lies outside the discounts seen ({low}% to {high}%); "
              "the model extrapolates",
    },
    "warning.extrapolated_discount_none": {
        "pt": "Atenção: nenhuma campanha do histórico tinha desconto informado; o efeito do desconto é um palpite",
        "en": "Warning: no campaign of the history had a discount recorded; the discount's effect is a guess",
    },
    "warning.few_campaigns": {
        "pt": "Atenção: só {campaigns} campanhas no histórico; com menos de {needed} a previsão é frágil",
        "en": "Warning: only {campaigns} campaigns in the history; below {needed} the prediction is fragile",
    },
    "warning.no_comparable": {
        "pt": "Atenção: nenhuma campanha do histórico tem a mesma categoria, o mesmo tipo e desconto parecido",
        "en": "Warning: no campaign of the history has the same category, the same type and a similar discount",
    },
    "warning.few_comparable": {
        "pt": "Só {comparable} campanha(s) comparável(is); com {needed} ou mais a confiança seria alta",
        "en": "Only {comparable} comparable campaign(s); with {needed} or more confidence would be high",
    },
    "warning.poor_check": {
        "pt": "Atenção: no teste deixando uma campanha de fora, os intervalos cobriram menos do que deveriam",
        "en": "Warning: when leaving one campaign out, the intervals covered less than they should",
    },
}
"""Sentences of `describe` (and of `NotEnoughHistory`) in Portuguese (pt) and English (en)."""


def _text(key: str, language: str, **values: object) -> str:
    texts = TEXTS[key]
    return texts.get(language, texts["en"]).format(**values)


def describe(summary: dict[str, object], support: dict[str, object], language: str) -> list[str]:
    """The plan's forecast, what it stands on, and its warnings, as sentences for the analyst.

    Args:
        summary: From `plan_summary`.
        support: From `history_support` (for the same plan).
        language: 'pt' or 'en' (English for anything else).

    Returns:
        One sentence per line: lift, units, revenue, margin, ROI (or why none), support, check, confidence,
        then one warning per reason in `support['reasons']`.
    """
    def num(value: object, decimals: int = 0) -> str:
        return number(float(value), language, decimals)

    def ends(name: str, decimals: int = 0) -> dict[str, str]:
        return {"value": num(summary[name], decimals), "low": num(summary[f"{name}_low"], decimals),
                "high": num(summary[f"{name}_high"], decimals)}

    level = num(100 * float(summary["level"]))
    lines = [_text("summary.lift", language, level=level, lift=num(summary["lift_pct"], 1),
                   low=num(summary["lift_pct_low"], 1), high=num(summary["lift_pct_high"], 1)),
             _text("summary.units", language, baseline=num(summary["baseline_units"]), **ends("incremental_units")),
             _text("summary.revenue", language, **ends("incremental_revenue", 2)),
             _text("summary.margin", language, **ends("incremental_margin", 2))]
    if summary.get("cost") is None:
        lines.append(_text("summary.no_cost", language))
    else:
        roi = {f"{kind}{end}": num(100 * float(summary[f"roi_{kind}{end}"]), 1)
               for kind in ("net", "gross") for end in ("", "_low", "_high")}
        lines.append(_text("summary.roi", language, cost=num(summary["cost"], 2), **roi))
    return lines + _support_lines(support, language)


def _support_lines(support: dict[str, object], language: str) -> list[str]:
    def num(value: object, decimals: int = 0) -> str:
        return number(float(value), language, decimals)

    lines = [_text("support.base", language, campaigns=support["campaigns"], cells=support["cells"],
                   category=support["same_category_campaigns"], type=support["same_type_campaigns"],
                   discount=support["similar_discount_campaigns"], comparable=support["comparable_campaigns"],
                   points=num(support["discount_points"])),
             _text("support.check", language, level=num(100 * float(support["loco_level"])),
                   coverage=num(100 * float(support["loco_coverage"])), mae=num(support["loco_mae_lift_points"], 1)),
             _text("support.confidence", language, word=_text(f"confidence.{support['confidence']}", language))]
    return lines + [_warning(code, support, language) for code in support["reasons"]]


def _warning(code: str, support: dict[str, object], language: str) -> str:
    seen = support["discount_range"]
    if code == "extrapolated_discount" and seen is None:
        return _text("warning.extrapolated_discount_none", language)
    values = {"categories": ", ".join(support["new_categories"]), "types": ", ".join(support["new_types"]),
              "campaigns": support["campaigns"], "needed": support["needed_campaigns"],
              "comparable": support["comparable_campaigns"],
              "discounts": ", ".join(number(d, language, 0) for d in support["planned_discounts"])}
    if code == "few_comparable":
        values["needed"] = support["needed_comparable"]
    if seen is not None:
        values.update(low=number(seen[0], language, 0), high=number(seen[1], language, 0))
    return _text(f"warning.{code}", language, **values)
