"""Name rules on names as the lists write them.

The three spellings of UN QDi.354 / OFAC 17293 are the running example: OFAC writes
"AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni", the UN "TARAK BEN TAHER BEN FALEH
OUNI HARZI" and, in the original script, "طارق بن الطاھر بن الفالح العوني الحرزي".
"""

from __future__ import annotations

import pytest

from jointwatch.names import analyze_name, scripts_of
from jointwatch.names.analyze import name_variants
from jointwatch.names.keys import arabic_keys, latin_keys
from jointwatch.names.translit import to_ascii

OFAC = "AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni"
UN = "TARAK BEN TAHER BEN FALEH OUNI HARZI"
NATIVE = "طارق بن الطاھر بن الفالح العوني الحرزي"


def words(name: str, schema: str = "Person") -> list[str]:
    return [t.text for t in analyze_name(name, schema).tokens]


def keys(name: str, schema: str = "Person") -> list[set[str]]:
    return [set(t.keys) for t in analyze_name(name, schema).tokens]


def test_ofac_spelling_loses_particles_and_comes_in_reading_order() -> None:
    name = analyze_name(OFAC)
    assert words(OFAC) == ["tariq", "tahar", "falih", "awni", "harzi"]
    assert sorted(w.lower() for w in name.ignored) == ["al", "al", "al", "al", "bin", "bin"]


def test_un_spelling_loses_ben() -> None:
    assert words(UN) == ["tarak", "taher", "faleh", "ouni", "harzi"]


def test_three_spellings_share_a_skeleton_word_by_word() -> None:
    ofac, un, native = keys(OFAC), keys(UN), keys(NATIVE)
    assert len(ofac) == len(un) == len(native) == 5
    for a, b, c in zip(ofac, un, native, strict=True):
        assert a & b & c, (a, b, c)
    assert {"trk"} <= ofac[0] & native[0]       # Tariq / Tarak / طارق: q and k are one class
    assert "hrz" in ofac[4] & un[4] & native[4]   # Harzi / الحرزي: the article goes


def test_arabic_script_is_romanised_without_the_article() -> None:
    name = analyze_name(NATIVE)
    assert name.scripts == frozenset({"Arabic"})
    assert all(t.native for t in name.tokens)
    # Urdu heh (ھ) in الطاھر reads as the Arabic ه
    assert name.tokens[1].text == "tahr"
    assert name.tokens[4].text == "hrzy"


@pytest.mark.parametrize("spelling", ["Abd al-Rahman", "Abdul Rahman", "Abdurrahman", "ABDEL RAHMAN",
                                      "Abd-ar-Rahman", "عبد الرحمن"])
def test_abd_joins_the_next_word(spelling: str) -> None:
    name = analyze_name(spelling)
    assert len(name.tokens) == 1
    assert "bdrhmn" in name.tokens[0].keys


@pytest.mark.parametrize("spelling", ["Abu Bakr", "Abou Bakr", "Abubakar", "أبو بكر"])
def test_abu_joins_the_next_word(spelling: str) -> None:
    assert keys(spelling) == [{"bkr"}]


def test_titles_are_ignored_but_kept_for_the_explanation() -> None:
    name = analyze_name("Mullah Mohammed Omar")
    assert [t.canonical for t in name.tokens] == ["muhammad", "umar"]
    assert name.ignored == ("Mullah",)
    assert words("Haji Khairullah Haji Sattar") == ["khairullah", "sattar"]
    # "Syed" is a title and a name: with one other word it stays
    assert words("Syed Ahmad") == ["syed", "ahmad"]


@pytest.mark.parametrize("group", [
    ["Mohammed", "Muhammad", "Mohamed", "Mohammad", "Mohd", "Mehmet"],
    ["Qaddafi", "Gaddafi", "Kadhafi", "Qadhafi", "Khadafy"],
    ["Yusuf", "Youssef", "Yousef"],
])
def test_spelling_variants_share_a_canonical_form(group: list[str]) -> None:
    assert len({analyze_name(g).tokens[0].canonical for g in group}) == 1


def test_arabic_letters_with_two_romanisations_give_both_keys() -> None:
    # ق is q/k in most lists and g in Libyan spellings; ذ is dh/d or z
    assert {"kdf", "gdf"} <= set(arabic_keys("قذافي"))
    assert latin_keys("gaddafi") == ("gdf",)
    # "dh" is one letter (ذ) or two: both readings are kept
    assert latin_keys("qadhafi") == ("kdf", "kdhf")


def test_list_order_last_comma_first() -> None:
    assert words("BIN LADIN, Usama bin Muhammad bin Awad") == ["usama", "muhammad", "awad", "ladin"]


@pytest.mark.parametrize(("written", "expected"), [
    ("Шевченко", "shevchenko"),
    ("Ελευθέριος", "elevtherios"),
    ("Հովհաննես", "hovhannes"),
    ("შევარდნაძე", "shevardnadze"),
    ("金正恩", "jinzhengen"),
    ("אברהם", "brhm"),
])
def test_other_scripts_are_transliterated(written: str, expected: str) -> None:
    assert to_ascii(written) == expected


def test_script_detection() -> None:
    assert scripts_of(NATIVE) == frozenset({"Arabic"})
    assert scripts_of("Абу Бакр аль-Багдади") == frozenset({"Cyrillic"})
    assert scripts_of("金正恩 Kim") == frozenset({"Han", "Latin"})


def test_list_fields_with_several_names() -> None:
    assert name_variants("أبو شيماء (Abu-Shaima; Abu- Shayma)") == ["أبو شيماء", "Abu-Shaima", "Abu- Shayma"]
    assert name_variants("Mohammad Bakr Zolqadr; Mohammad Bakr Zolkadr") == [
        "Mohammad Bakr Zolqadr", "Mohammad Bakr Zolkadr"]
    # a bracketed country is part of a company name, not a name of its own
    assert name_variants("NOOR ENERGY (MALAYSIA) LTD.") == ["NOOR ENERGY LTD."]


def test_organisation_names_drop_legal_forms() -> None:
    assert words("GLOBAL TECHNOLOGY IMPORT & EXPORT, S.A.", "Organization") == [
        "global", "technology", "import", "export"]
    assert words("AL QAIDA", "Organization") == ["qaida"]


@pytest.mark.parametrize("hostile", ["", " ", "\x00\x01\x02", "😀😀", "x" * 10_000, "a\u202eb", "؟؟؟"])
def test_hostile_names_never_crash(hostile: str) -> None:
    name = analyze_name(hostile)
    assert all(t.text for t in name.tokens)
    assert len(name.tokens) <= 24


@pytest.mark.parametrize(("latin", "native"), [
    # UN TAi entries: the Latin and the original-script name of the same man
    ("ATTIQULLAH AKHUND", "عتیق الله آخوند"),
    ("JALALUDDIN HAQQANI", "جلال الدين حقانى"),
    ("HIDAYATULLAH", "هدايت الله"),
    ("ABDUL JABBAR OMARI", "عبدالجبار عمری"),
])
def test_ullah_uddin_and_glued_articles_meet_across_scripts(latin: str, native: str) -> None:
    a, b = keys(latin), keys(native)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x & y, (latin, native, a, b)


def test_ullah_written_apart_or_joined_is_one_word() -> None:
    assert words("Saif Allah") == ["saifallah"]
    assert keys("Saif Allah") == keys("Saifullah")
    assert keys("Jalal ad-Din") == keys("Jalaluddin")


def test_muhammad_and_mahmud_share_consonants_but_are_different_names() -> None:
    muhammad, mahmud = analyze_name("محمد").tokens[0], analyze_name("Mahmoud").tokens[0]
    assert set(muhammad.keys) & set(mahmud.keys)            # same skeleton, mhmd
    assert muhammad.canonical == "muhammad" and mahmud.canonical == "mahmud"
    assert muhammad.known and mahmud.known


def test_han_and_hangul_names_are_read_syllable_by_syllable() -> None:
    assert words("沈忠國際海運有限公司", "Organization")[:2] == ["shen", "zhong"]
    assert words("김정은") == ["gim", "jeong", "eun"]


def test_compound_words_keep_their_written_form_for_explanations() -> None:
    assert [t.original for t in analyze_name("HAYDAR, Abu Ali").tokens] == ["Abu Ali", "HAYDAR"]
