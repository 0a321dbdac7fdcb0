from collections import Counter

import pytest

from forum import vocabulary
from forum.vocabulary import KINDS, find, stem, terms


def keys(text):
    return [term.key for term, _, _, _ in find(text)]


def written(text):
    return [as_written for _, as_written, _, _ in find(text)]


def by_key(key):
    return next(term for term in terms() if term.key == key)


def write(tmp_path, body):
    path = tmp_path / "vocabulary.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_vocabulary_loads_with_every_kind_and_hundreds_of_entries():
    counts = Counter(term.kind for term in terms())
    assert sum(counts.values()) >= 300
    assert set(counts) == set(KINDS)
    assert counts["drug"] >= 60 and counts["symptom"] >= 40 and counts["regimen"] >= 15


def test_every_entry_has_english_and_chinese_and_a_unique_key():
    loaded = terms()
    assert all(term.en and term.zh for term in loaded)
    assert len({term.key for term in loaded}) == len(loaded)


def test_terms_are_loaded_once():
    assert terms() is terms()


def test_term_shows_its_first_name_in_each_language():
    term = by_key("oxaliplatin")
    assert term.shown("zh-hans") == "奥沙利铂"
    assert term.shown("en") == "oxaliplatin"
    assert term.forms[:2] == ("oxaliplatin", "奥沙利铂")
    assert {"L-OHP", "Eloxatin", "乐沙定"} <= set(term.forms)
    assert len(term.forms) == len(set(term.forms))


@pytest.mark.parametrize(
    "text",
    ["奥沙利铂", "oxaliplatin", "Oxaliplatin", "L-OHP", "LOHP", "l ohp", "Ｌ－ＯＨＰ", "Eloxatin"],
)
def test_oxaliplatin_is_found_by_any_of_its_names(text):
    assert keys(text) == ["oxaliplatin"]


@pytest.mark.parametrize("text", ["XELOX", "CAPOX", "CapeOX", "奥沙利铂联合卡培他滨"])
def test_xelox_and_capox_are_one_regimen(text):
    assert keys(text) == ["xelox"]


def test_chinese_compounds_split_into_the_longest_terms():
    assert keys("结直肠癌肝转移") == ["colorectal cancer", "liver metastasis"]
    assert written("结直肠癌肝转移") == ["结直肠癌", "肝转移"]


def test_liver_metastasis_meets_in_both_languages():
    assert keys("liver metastasis") == ["liver metastasis"]
    assert keys("Liver metastases") == ["liver metastasis"]
    assert keys("肝转移") == ["liver metastasis"]


@pytest.mark.parametrize("text", ["PD-1", "pd1", "PD 1", "PD-1抑制剂", "pd1抑制剂", "PD-1单抗"])
def test_pd1_is_found_however_written(text):
    assert keys(text) == ["pd-1 inhibitor"]


def test_pd_l1_test_and_pd_l1_inhibitor_stay_apart():
    assert keys("PD-L1 CPS 10") == ["pd-l1 expression"]
    assert keys("PD-L1抑制剂") == ["pd-l1 inhibitor"]


@pytest.mark.parametrize(
    "text", ["neuropathy", "peripheral neuropathy", "手脚麻木", "numbness", "末梢神经炎"]
)
def test_neuropathy_is_found_in_either_language(text):
    assert keys(text) == ["peripheral neuropathy"]


@pytest.mark.parametrize(
    "text",
    ["hand-foot syndrome", "hand foot syndrome", "Hand-Foot Syndrome", "手足综合征", "手足综合症"],
)
def test_hand_foot_syndrome_is_found_however_written(text):
    assert keys(text) == ["hand-foot syndrome"]


def test_chemo_is_chemotherapy():
    assert keys("chemo") == ["chemotherapy"]
    assert keys("chemotherapy") == ["chemotherapy"]
    assert keys("化疗") == ["chemotherapy"]


def test_oxaliplatin_numbness_finds_the_drug_and_the_symptom():
    assert keys("oxaliplatin numbness") == ["oxaliplatin", "peripheral neuropathy"]


@pytest.mark.parametrize("text", ["CA19-9", "CA 19-9", "ca199", "CA-199", "CA19.9", "糖类抗原19-9"])
def test_ca19_9_is_found_however_written(text):
    assert keys(text) == ["ca19-9"]


@pytest.mark.parametrize("text", ["5-FU", "5FU", "5 fu", "氟尿嘧啶", "5-氟尿嘧啶"])
def test_fluorouracil_is_found_however_written(text):
    assert keys(text) == ["fluorouracil"]


def test_english_inflections_match():
    assert keys("metastases") == keys("metastasis") == ["metastasis"]
    assert keys("vomiting") == keys("vomited") == keys("vomit") == ["vomiting"]
    assert keys("tumours") == keys("tumour") == ["tumour"]


def test_british_and_american_spellings_match():
    assert keys("diarrhoea") == keys("diarrhea") == ["diarrhoea"]
    assert keys("oesophageal cancer") == keys("esophageal cancer") == ["oesophageal cancer"]
    assert keys("anaemia") == keys("anemia") == ["anaemia"]
    assert keys("tumor") == ["tumour"]


def test_stem_joins_inflections_and_leaves_short_words_whole():
    assert stem("metastasis") == stem("metastases")
    assert stem("Vomiting") == stem("vomited") == "vomit"
    assert stem("tumours") == stem("tumour")
    assert stem("LARS") == "lars" != stem("LAR")


def test_abbreviations_match_whole_words_only():
    assert keys("I am confident about it") == []
    assert keys("the CF dose") == ["leucovorin", "dose"]
    assert keys("a lecture on Xelox-like regimens") == ["xelox", "chemotherapy regimen"]
    assert keys("sextant") == []
    assert keys("afterwards") == []


def test_ordinary_words_before_a_number_are_not_an_abbreviation():
    assert keys("her 2 cycles") == []
    assert keys("HER2 positive") == ["her2"]
    assert keys("HER-2") == ["her2"]


def test_words_of_different_sentences_do_not_join():
    assert keys("It spread to the liver. Metastasis was confirmed.") == ["liver", "metastasis"]


def test_matches_report_their_place_in_the_text():
    text = "他用了XELOX方案，后来手足综合征。"
    found = find(text)
    assert [(term.key, text[start:end]) for term, _, start, end in found] == [
        ("xelox", "XELOX方案"),
        ("hand-foot syndrome", "手足综合征"),
    ]
    assert [as_written for _, as_written, _, _ in found] == ["XELOX方案", "手足综合征"]


def test_longest_match_wins_and_matches_do_not_overlap():
    assert keys("白蛋白紫杉醇") == ["nab-paclitaxel"]
    assert keys("nab-paclitaxel") == ["nab-paclitaxel"]
    assert keys("新辅助化疗") == ["neoadjuvant therapy"]
    assert keys("colorectal cancer liver metastases") == ["colorectal cancer", "liver metastasis"]


def test_text_without_terms_finds_nothing():
    assert find("") == []
    assert find("谢谢大家的鼓励。Thank you all!") == []


def test_long_mixed_text_is_matched_in_text_order():
    text = ("术后用了卡培他滨，CEA下降了。Then FOLFIRI and bevacizumab. " * 40)[:2000]
    found = find(text)
    starts = [start for _, _, start, _ in found]
    assert starts == sorted(starts)
    assert {term.key for term, _, _, _ in found} >= {
        "capecitabine",
        "carcinoembryonic antigen",
        "folfiri",
    }


def test_entry_without_chinese_is_refused_by_name(tmp_path):
    path = write(tmp_path, '[[term]]\nkind = "drug"\nen = ["oxaliplatin"]\nzh = []\n')
    with pytest.raises(ValueError, match=r"entry 1 \(oxaliplatin\).*one en and one zh"):
        vocabulary._load(path)


def test_unknown_kind_is_refused_by_name(tmp_path):
    path = write(tmp_path, '[[term]]\nkind = "medicine"\nen = ["oxaliplatin"]\nzh = ["奥沙利铂"]\n')
    with pytest.raises(ValueError, match=r"oxaliplatin.*'medicine'"):
        vocabulary._load(path)


def test_misspelt_field_is_refused(tmp_path):
    path = write(
        tmp_path,
        '[[term]]\nkind = "drug"\nen = ["oxaliplatin"]\nzh = ["奥沙利铂"]\nbrands = ["Eloxatin"]\n',
    )
    with pytest.raises(ValueError, match=r"oxaliplatin.*brands"):
        vocabulary._load(path)


def test_chinese_name_in_english_field_is_refused(tmp_path):
    path = write(tmp_path, '[[term]]\nkind = "drug"\nen = ["奥沙利铂"]\nzh = ["奥沙利铂"]\n')
    with pytest.raises(ValueError, match="has Chinese characters"):
        vocabulary._load(path)


def test_form_shared_by_two_entries_is_refused_naming_both(tmp_path):
    path = write(
        tmp_path,
        '[[term]]\nkind = "drug"\nen = ["oxaliplatin"]\nzh = ["奥沙利铂"]\nabbr = ["L-OHP"]\n\n'
        '[[term]]\nkind = "drug"\nen = ["leucovorin"]\nzh = ["亚叶酸钙"]\nabbr = ["LOHP"]\n',
    )
    with pytest.raises(ValueError, match=r"'leucovorin' form 'LOHP'.*'oxaliplatin' form 'L-OHP'"):
        vocabulary._load(path)


def test_broken_toml_is_a_value_error(tmp_path):
    path = write(tmp_path, '[[term]]\nkind = "drug\n')
    with pytest.raises(ValueError, match="not valid TOML"):
        vocabulary._load(path)


def test_a_small_vocabulary_loads_and_matches(tmp_path):
    path = write(
        tmp_path,
        '[[term]]\nkind = "drug"\nen = ["oxaliplatin"]\nzh = ["奥沙利铂"]\nabbr = ["L-OHP"]\n',
    )
    matcher = vocabulary._Matcher(vocabulary._load(path))
    assert [
        (term.key, as_written) for term, as_written, _, _ in matcher.find("用了奥沙利铂 (L-OHP)")
    ] == [
        ("oxaliplatin", "奥沙利铂"),
        ("oxaliplatin", "L-OHP"),
    ]
