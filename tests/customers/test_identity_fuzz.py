"""Identity resolution parsing raw fields, fuzzed: CPFs checked as the Receita Federal does; any text survives."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shelfwise.customers.identity import resolve_customers
from shelfwise.demo.people import cpf_check_digits

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _formatted(digits: str, style: int) -> str:
    return [digits, f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}", f" {digits[:9]}-{digits[9:]} ",
            f"{digits}.0"][style]


@FAST
@given(stem=st.lists(st.integers(0, 9), min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1),
       styles=st.tuples(st.integers(0, 3), st.integers(0, 3)), wrong=st.integers(1, 9))
def test_a_cpf_links_whatever_its_punctuation_and_a_wrong_check_digit_is_refused(stem, styles, wrong):
    check = cpf_check_digits(np.array([stem]))[0]
    valid = "".join(map(str, [*stem, *check]))
    invalid = valid[:10] + str((int(valid[10]) + wrong) % 10)
    people = pd.DataFrame({"customer_id": ["a", "b", "c"], "name": ["Ana Lima", "Ana Lima", "Ana Lima"],
                           "document": [_formatted(valid, styles[0]), _formatted(valid, styles[1]), invalid]})
    result = resolve_customers(people)
    clusters = result.records.set_index("customer_id")["cluster_key"]
    assert clusters["a"] == clusters["b"], "one CPF, written two ways"
    assert clusters["c"] != clusters["a"], "a CPF failing its check digits identifies nobody"
    assert result.stats["invalid_cpfs_ignored"] == 1


_TEXT = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["", " ", "31/02/1990", "00000000000",
                                                                      "naotem@", "+55 (11) 9", "1e999", ";"]))


@FAST
@given(rows=st.lists(st.tuples(_TEXT, _TEXT, _TEXT, _TEXT, _TEXT), min_size=0, max_size=12))
def test_any_text_in_any_field_resolves_every_record_once_and_lets_nothing_out(rows):
    people = pd.DataFrame(rows, columns=["name", "email", "phone", "document", "birth_date"])
    people.insert(0, "customer_id", [f"id{i}" for i in range(len(people))])
    result = resolve_customers(people)
    assert sorted(result.records["customer_id"]) == sorted(people["customer_id"])
    kept = {str(v) for v in people.drop(columns="customer_id").to_numpy().ravel() if v and len(str(v).strip()) > 3}
    shown = {str(v) for v in pd.concat([result.records, result.review]).to_numpy().ravel()}
    assert not kept & shown
