"""Russian typography rules of `compendium.typography`, written as specifications.

``NBSP`` stands for the no-break space U+00A0; the other characters are written as they print.
"""

from __future__ import annotations

import pytest

from compendium.typography import EM_DASH, EN_DASH, NBSP, typeset, typeset_runs

# --- quotes -----------------------------------------------------------------------------------


def test_straight_quotes_become_yolochki() -> None:
    assert typeset('фестиваль "Анучино"') == "фестиваль «Анучино»"


def test_quote_at_the_start_of_the_text_opens() -> None:
    assert typeset('"Школьное питание" внедрено') == "«Школьное питание» внедрено"


def test_nested_quotes_become_lapki() -> None:
    assert typeset("фонд «Центр «Город» и регион»") == "фонд «Центр „Город“ и\u00a0регион»"


def test_nested_straight_quotes_become_lapki() -> None:
    assert typeset('фонд "Центр "Город" и регион"') == "фонд «Центр „Город“ и\u00a0регион»"


def test_straight_quotes_inside_yolochki_become_lapki() -> None:
    assert typeset('«Школьное кафе с "IT-библиотекой"»') == "«Школьное кафе с" + NBSP + "„IT-библиотекой“»"


def test_nested_quotes_closing_together() -> None:
    assert typeset('программа "Юный "пчеловод""') == "программа «Юный „пчеловод“»"


def test_quotes_after_a_bracket_open() -> None:
    assert typeset('(программа "Юный пчеловод")') == "(программа «Юный пчеловод»)"


def test_quote_split_across_runs_closes_in_the_next_run() -> None:
    runs = typeset_runs(['конкурса "', "Лучшая практика", '" за 2022 год'])
    assert runs == ["конкурса «", "Лучшая практика", "» за" + NBSP + "2022" + NBSP + "год"]


def test_nested_quotes_split_across_runs() -> None:
    runs = typeset_runs(['фонд "Центр ', '"Город"', ' и регион"'])
    assert runs == ["фонд «Центр ", "„Город“", " и" + NBSP + "регион»"]


def test_existing_yolochki_are_kept() -> None:
    assert typeset("«Возрождение»") == "«Возрождение»"


# --- dashes -----------------------------------------------------------------------------------


def test_spaced_hyphen_becomes_em_dash_bound_to_the_word_before() -> None:
    assert typeset("пчеловоды - сообщество") == "пчеловоды" + NBSP + EM_DASH + " сообщество"


def test_spaced_en_dash_becomes_em_dash_bound_to_the_word_before() -> None:
    assert typeset("пчеловоды – сообщество") == "пчеловоды" + NBSP + EM_DASH + " сообщество"


def test_spaced_em_dash_is_bound_to_the_word_before() -> None:
    assert typeset("пчеловоды — сообщество") == "пчеловоды" + NBSP + EM_DASH + " сообщество"


def test_hyphen_inside_a_word_stays() -> None:
    assert typeset("социально-экономический") == "социально-экономический"


def test_number_range_gets_an_en_dash() -> None:
    assert typeset("за 2022-2023 годы") == "за" + NBSP + "2022" + EN_DASH + "2023" + NBSP + "годы"


def test_spaced_number_range_gets_a_closed_en_dash() -> None:
    assert typeset("2022 - 2023") == "2022" + EN_DASH + "2023"


def test_number_range_with_en_dash_stays() -> None:
    assert typeset("10–20") == "10" + EN_DASH + "20"


# --- no-break spaces --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("в школах", "в" + NBSP + "школах"),
        ("и регион", "и" + NBSP + "регион"),
        ("на рынки", "на" + NBSP + "рынки"),
        ("по направлению", "по" + NBSP + "направлению"),
        ("Мы смогли", "Мы" + NBSP + "смогли"),
    ],
    ids=["one-letter", "one-letter-i", "two-letter", "two-letter-po", "capitalised"],
)
def test_no_break_space_after_one_and_two_letter_words(text: str, expected: str) -> None:
    assert typeset(text) == expected


def test_three_letter_words_keep_their_space() -> None:
    assert typeset("для жителей") == "для жителей"


def test_no_break_space_after_g_abbreviation() -> None:
    assert typeset("станция г. Чебоксары") == "станция г." + NBSP + "Чебоксары"


def test_no_break_space_after_thousand_abbreviation() -> None:
    assert typeset("150 тыс. т/год") == "150" + NBSP + "тыс." + NBSP + "т/год"


def test_no_break_space_after_a_number() -> None:
    assert typeset("240 рабочих мест") == "240" + NBSP + "рабочих мест"


# --- numbers ----------------------------------------------------------------------------------


def test_long_numbers_are_grouped_by_three() -> None:
    assert typeset("1234567") == "1" + NBSP + "234" + NBSP + "567"


def test_five_digit_numbers_are_grouped() -> None:
    assert typeset("12345") == "12" + NBSP + "345"


def test_four_digit_years_stay_ungrouped() -> None:
    assert typeset("2023") == "2023"
    assert typeset("с 2022 года") == "с" + NBSP + "2022" + NBSP + "года"


def test_numbers_grouped_with_spaces_get_no_break_spaces() -> None:
    assert typeset("1 234 567") == "1" + NBSP + "234" + NBSP + "567"


def test_decimal_fractions_are_not_grouped() -> None:
    assert typeset("3,14159") == "3,14159"


# --- punctuation ------------------------------------------------------------------------------


def test_space_before_colon_is_removed() -> None:
    assert typeset("на основе строительства :") == "на" + NBSP + "основе строительства:"


def test_space_before_comma_is_removed() -> None:
    assert typeset("мед , воск") == "мед, воск"


# --- runs -------------------------------------------------------------------------------------

RUN_SAMPLES = [
    ["Создание ", "межмуниципальной системы", " переработки - в г. Новочебоксарск"],
    ["**", "100%", " общеобразовательных организаций в 2022-2023 гг."],
    ['конкурса "', "Лучшая практика", '" - итоги'],
    ["мощностью ", "200 тыс. т", " в год, 1234567 руб."],
    ["", "в", " ", "школах", ""],
]


@pytest.mark.parametrize("runs", RUN_SAMPLES, ids=[str(i) for i in range(len(RUN_SAMPLES))])
def test_typeset_runs_keeps_the_number_of_runs(runs: list[str]) -> None:
    assert len(typeset_runs(runs)) == len(runs)


@pytest.mark.parametrize("runs", RUN_SAMPLES, ids=[str(i) for i in range(len(RUN_SAMPLES))])
def test_typeset_runs_joined_equals_typeset_of_the_joined_text(runs: list[str]) -> None:
    assert "".join(typeset_runs(runs)) == typeset("".join(runs))


def test_space_at_a_run_boundary_is_bound_to_the_short_word() -> None:
    assert typeset_runs(["в ", "школах"]) == ["в" + NBSP, "школах"]


def test_dash_at_a_run_boundary_is_bound_to_the_word_before() -> None:
    assert typeset_runs(["сообщество", " - ", "Возрождение"]) == [
        "сообщество", NBSP + EM_DASH + " ", "Возрождение",
    ]


def test_empty_input() -> None:
    assert typeset("") == ""
    assert typeset_runs([]) == []


BOUNDARY_SAMPLES = {
    # `**Кардинальное решение** :` — the space before the colon starts the next run
    "space-before-colon-after-bold": ["Кардинальное решение", " :"],
    # `за **2022**-2023 годы` — a range whose first year is bold
    "range-after-bold-year": ["за ", "2022", "-2023 годы"],
    # `**2022** - 2023` — becomes an em dash between two years instead of an en dash
    "spaced-range-after-bold-year": ["в ", "2022", " - ", "2023"],
}


@pytest.mark.parametrize("runs", BOUNDARY_SAMPLES.values(), ids=BOUNDARY_SAMPLES.keys())
def test_rules_apply_across_run_boundaries(runs: list[str]) -> None:
    assert "".join(typeset_runs(runs)) == typeset("".join(runs))
