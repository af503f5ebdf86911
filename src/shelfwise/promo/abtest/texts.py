"""An experiment's result in words, Portuguese or English: the verdict, the groups, each method and the warnings."""

from __future__ import annotations

import math

from shelfwise.messages import number
from shelfwise.promo.abtest.results import Estimate, ExperimentResult

TEXTS: dict[str, dict[str, str]] = {
    "verdict.better": {
        "pt": "Tratamento ({treatment}) supera o controle ({control}) com {prob} de probabilidade; "
              "efeito {effect} [IC {level}: {low}; {high}] ({method})",
        "en": "Treatment ({treatment}) beats control ({control}) with {prob} probability; "
              "effect {effect} [{level} CI: {low}, {high}] ({method})",
    },
    "verdict.worse": {
        "pt": "Tratamento ({treatment}) fica abaixo do controle ({control}) com {prob} de probabilidade; "
              "efeito {effect} [IC {level}: {low}; {high}] ({method})",
        "en": "Treatment ({treatment}) falls short of control ({control}) with {prob} probability; "
              "effect {effect} [{level} CI: {low}, {high}] ({method})",
    },
    "group": {"pt": "  {role} ({label}): {n} unidades, média {mean}",
              "en": "  {role} ({label}): {n} units, mean {mean}"},
    "role.treatment": {"pt": "Tratamento", "en": "Treatment"},
    "role.control": {"pt": "Controle", "en": "Control"},
    "method.welch": {
        "pt": "  Welch ({df} gl): efeito {effect} [IC {level}: {low}; {high}], relativo {relative} "
              "[{rel_low}; {rel_high}], {p}",
        "en": "  Welch ({df} df): effect {effect} [{level} CI: {low}, {high}], relative {relative} "
              "[{rel_low}, {rel_high}], {p}",
    },
    "method.bootstrap": {
        "pt": "  Bootstrap percentil ({n_boot} reamostragens): efeito {effect} [IC {level}: {low}; {high}], "
              "relativo {relative} [{rel_low}; {rel_high}]",
        "en": "  Percentile bootstrap ({n_boot} resamples): effect {effect} [{level} CI: {low}, {high}], "
              "relative {relative} [{rel_low}, {rel_high}]",
    },
    "method.cuped": {
        "pt": "  CUPED (pré-período): efeito {effect} [IC {level}: {low}; {high}], relativo {relative} "
              "[{rel_low}; {rel_high}], {p}; variância {reduction} menor (correlação {correlation}), "
              "vale por {gain} as unidades",
        "en": "  CUPED (pre-period): effect {effect} [{level} CI: {low}, {high}], relative {relative} "
              "[{rel_low}, {rel_high}], {p}; variance {reduction} lower (correlation {correlation}), "
              "worth {gain} the units",
    },
    "method.bayes": {
        "pt": "  Bayes ({model}): P(tratamento > controle) = {prob}; efeito {effect} "
              "[intervalo de credibilidade {level}: {low}; {high}]",
        "en": "  Bayes ({model}): P(treatment > control) = {prob}; effect {effect} [{level} credible interval: "
              "{low}, {high}]",
    },
    "model.t": {"pt": "posteriores t, priori de referência", "en": "t posteriors, reference prior"},
    "model.beta": {"pt": "Beta(1,1)-Binomial", "en": "Beta(1,1)-Binomial"},
    "small_sample": {
        "pt": "Amostra pequena: o grupo {group} tem {n} unidades (mínimo recomendado {minimum}); os intervalos "
              "são imprecisos.",
        "en": "Small sample: group {group} has {n} units (recommended minimum {minimum}); the intervals are "
              "imprecise.",
    },
    "imbalanced": {
        "pt": "Grupos desbalanceados: o grupo {group} tem só {share} das unidades; confira a aleatorização.",
        "en": "Imbalanced groups: group {group} holds only {share} of the units; check the randomisation.",
    },
    "sample_ratio_mismatch": {
        "pt": "Divisão diferente da planejada: {share} das unidades no tratamento, esperado {expected} "
              "(qui-quadrado, {p_value}); a aleatorização ou o registro falhou e o resultado não é confiável.",
        "en": "Split differs from the plan: {share} of the units in treatment, expected {expected} "
              "(chi-square, {p_value}); randomisation or logging failed and the result cannot be trusted.",
    },
    "low_pre_correlation": {
        "pt": "O pré-período explica pouco do resultado (variância {reduction} menor); o CUPED quase não ajuda.",
        "en": "The pre-period explains little of the outcome (variance {reduction} lower); CUPED barely helps.",
    },
    "constant_pre": {
        "pt": "O pré-período não varia (ou falta em quase todas as unidades); o CUPED não foi aplicado.",
        "en": "The pre-period does not vary (or is missing for almost every unit); CUPED was not applied.",
    },
    "missing_pre": {
        "pt": "{n} unidade(s) sem pré-período entram no CUPED sem ajuste.",
        "en": "{n} unit(s) without a pre-period enter CUPED unadjusted.",
    },
    "skewed_outcome": {
        "pt": "Resultado muito assimétrico no grupo {group} (assimetria {skewness}): o teste de Welch precisa de "
              "cerca de {needed} unidades e há {n}; prefira o intervalo bootstrap.",
        "en": "Heavily skewed outcome in group {group} (skewness {skewness}): Welch's test needs about {needed} "
              "units and there are {n}; prefer the bootstrap interval.",
    },
    "zero_variance": {
        "pt": "O resultado é igual em todas as unidades do grupo {group}; os intervalos podem enganar.",
        "en": "The outcome is the same for every unit of group {group}; the intervals may mislead.",
    },
    "missing_outcome": {"pt": "{n} unidade(s) sem resultado deixadas de fora.",
                        "en": "{n} unit(s) without an outcome left out."},
    "missing_group": {"pt": "{n} linha(s) sem grupo deixadas de fora.", "en": "{n} row(s) without a group left out."},
    "other_groups": {"pt": "{n} unidade(s) de outros grupos ({labels}) deixadas de fora.",
                     "en": "{n} unit(s) of other groups ({labels}) left out."},
    "bootstrap_reduced": {
        "pt": "Bootstrap com {used} reamostragens em vez de {requested}, pelo número de unidades.",
        "en": "Bootstrap with {used} resamples instead of {requested}, given the number of units.",
    },
}
"""Every sentence `describe` prints, in Portuguese (pt) and English (en); warning codes are keys too."""

_SHARES = frozenset({"share", "expected", "reduction"})


def describe(result: ExperimentResult, language: str) -> list[str]:
    """The result as lines for a terminal: the verdict, the groups, each method, then the warnings."""
    lang = language if language in ("pt", "en") else "en"

    def say(key: str, **values: object) -> str:
        return TEXTS[key][lang].format(**values)

    level = _percent(result.confidence, lang, 0)
    lines = [_verdict(result, lang, level)]
    for role, label, n, mean in (("treatment", result.treatment, result.n_treatment, result.mean_treatment),
                                 ("control", result.control, result.n_control, result.mean_control)):
        lines.append(say("group", role=say(f"role.{role}"), label=label, n=number(n, lang),
                         mean=_amount(mean, result, lang, signed=False)))
    for estimate in result.estimates():
        values = _estimate_words(estimate, result, lang) | {"level": level}
        if estimate.method == "welch":
            values["df"] = number(estimate.df, lang, 1) if math.isfinite(estimate.df) else "–"
        elif estimate.method == "bootstrap":
            values["n_boot"] = number(result.n_boot, lang)
        elif estimate.method == "cuped" and result.cuped_stats is not None:
            c = result.cuped_stats
            values |= {"reduction": _percent(c.variance_reduction, lang, 0),
                       "correlation": number(c.correlation, lang, 2),
                       "gain": number(1 + c.precision_gain, lang, 1) + "×" if math.isfinite(c.precision_gain) else "–"}
        elif estimate.method == "bayes":
            values |= {"model": say("model.beta" if result.binary else "model.t"),
                       "prob": _percent(estimate.prob_treatment_better, lang, 1)}
        lines.append(say(f"method.{estimate.method}", **values))
    lines += [say(code, **{k: _param(k, v, lang) for k, v in params.items()}) for code, params in result.warnings]
    return lines


def _verdict(result: ExperimentResult, lang: str, level: str) -> str:
    headline = result.preferred
    prob = result.prob_treatment_better
    words = _estimate_words(headline, result, lang)
    if math.isfinite(headline.relative_effect):
        effect, low, high = words["relative"], words["rel_low"], words["rel_high"]
    else:
        effect, low, high = words["effect"], words["low"], words["high"]
    key = "verdict.better" if prob >= 0.5 else "verdict.worse"
    return TEXTS[key][lang].format(treatment=result.treatment, control=result.control,
                                   prob=_percent(max(prob, 1 - prob), lang, 0), effect=effect, low=low, high=high,
                                   level=level, method=headline.method)


def _estimate_words(estimate: Estimate, result: ExperimentResult, lang: str) -> dict[str, object]:
    return {
        "effect": _amount(estimate.effect, result, lang), "low": _amount(estimate.effect_low, result, lang),
        "high": _amount(estimate.effect_high, result, lang),
        "relative": _percent(estimate.relative_effect, lang, 1, signed=True),
        "rel_low": _percent(estimate.relative_low, lang, 1, signed=True),
        "rel_high": _percent(estimate.relative_high, lang, 1, signed=True),
        "p": _p_value(estimate.p_value, lang),
    }


def _amount(value: float, result: ExperimentResult, lang: str, signed: bool = True) -> str:
    """An outcome amount: percentage points for a rate, else decimals fitting the outcome's spread."""
    if not math.isfinite(value):
        return "–"
    if result.binary:
        text = number(100 * value, lang, 1)
        return ("+" if signed and value > 0 else "") + text + (" p.p." if signed else "%")
    spread = max(result.sd_treatment, result.sd_control)
    decimals = min(6, max(0, 2 - math.floor(math.log10(spread)))) if spread > 0 else 2
    return ("+" if signed and value > 0 else "") + number(value, lang, decimals)


def _percent(value: float, lang: str, decimals: int, signed: bool = False) -> str:
    if not math.isfinite(value):
        return "–"
    return ("+" if signed and value > 0 else "") + number(100 * value, lang, decimals) + "%"


def _p_value(value: float, lang: str) -> str:
    if not math.isfinite(value):
        return "–"
    return "p < " + number(0.001, lang, 3) if value < 0.001 else "p = " + number(value, lang, 3)


def _param(key: str, value: object, lang: str) -> object:
    if key in _SHARES and isinstance(value, float):
        return _percent(value, lang, 1)
    if key == "p_value" and isinstance(value, float):
        return _p_value(value, lang)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return number(value, lang, 0 if isinstance(value, int) else 2)
