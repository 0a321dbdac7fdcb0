"""The department's bilingual vocabulary: the reviewed glossary and a matcher for it.

forum/vocabulary.toml holds the terms; physicians extend it (its header says how).
`terms()` loads and validates it once per process, and `find()` names the terms a
text mentions, in either language, so search can meet Chinese with English.

Matching rules:
- Forms containing Chinese characters match as substrings: 结直肠癌肝转移 finds
  结直肠癌 and 肝转移. ASCII letters and digits inside them match loosely, so
  PD-1抑制剂 also finds "pd1抑制剂".
- Other forms (English, abbreviations, brands) match whole words, case-insensitively,
  word by word through `stem`, ignoring hyphens, slashes and the like: "L-OHP",
  "l ohp" and "LOHP"; "CA19-9", "CA 19-9" and "ca199"; "liver metastases".
- Where matches overlap the longest wins, then the earliest.
"""

import functools
import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

import snowballstemmer

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.toml")

KINDS = (
    "cancer",
    "site",
    "drug",
    "regimen",
    "procedure",
    "test",
    "symptom",
    "treatment",
    "general",
)
FIELDS = ("en", "zh", "abbr", "brand", "also")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Letters and digits make separate words, so "ca19" and "ca 19" meet; an apostrophe
# inside a word is dropped ("Whipple's", "can't").
_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*|[0-9]+")
# What may stand between the words of one form in a text: a space, hyphen, slash or
# plus sign ("hand-foot", "PET/CT", "gemcitabine + nab-paclitaxel"), or one full stop
# ("CA19.9"), but not a full stop and a space, which ends a sentence.
_GAP = re.compile(r"[ \t\u00a0\-\u2010-\u2014/_\u00b7+]{0,3}|\.")
# Ordinary words that a number often follows ("her 2 cycles", "in 3 weeks"): across a
# space they never join it into one name such as HER2.
_NOT_BEFORE_NUMBER = frozenset(
    "a an and are as at be by do for he her his if in is it its me my no of on or our "
    "she so the their to up us was we your".split()
)
_SEPARATORS = " \t\r\n\u00a0-\u2010\u2011\u2012\u2013\u2014/_\u00b7+."
_LOOSE = "[" + re.escape(_SEPARATORS) + "]{0,2}"
# The full-width characters that matter to matching: letters, digits and the
# separators of _GAP (not the full-width comma of every Chinese sentence).
_WIDE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0b\uff0d-\uff0f\uff3f\u3000]")
# Full-width ASCII (Ｌ－ＯＨＰ) to ASCII, ASCII to lower case, and the ideographic space
# to a space: one character for one, so offsets into the folded text are offsets into
# the original.
_FOLD = (
    {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
    | {code: code + 0x20 for code in range(ord("A"), ord("Z") + 1)}
    | {code: code - 0xFEE0 + 0x20 for code in range(0xFF21, 0xFF3B)}
    | {0x3000: 0x20}
)


@dataclass(frozen=True)
class Term:
    key: str
    kind: str
    en: tuple[str, ...]
    zh: tuple[str, ...]
    abbr: tuple[str, ...] = ()
    brand: tuple[str, ...] = ()
    also: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        """Every form, each once, in the order en, zh, abbr, brand, also."""
        return tuple(dict.fromkeys(self.en + self.zh + self.abbr + self.brand + self.also))

    def shown(self, language: str) -> str:
        """The name to show: the first Chinese name for "zh-hans", else the first English."""
        return self.zh[0] if language == "zh-hans" else self.en[0]


def terms() -> tuple[Term, ...]:
    """The shipped vocabulary, loaded and validated once per process."""
    return _load_shipped()


def find(text: str) -> list[tuple[Term, str, int, int]]:
    """The terms named in text as (term, text as written, start, end), in text order."""
    return _matcher().find(text)


_local = threading.local()


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """An English word's stem, lower-cased: metastasis and metastases both give "metastas".

    Words of four letters or fewer are left whole: most are abbreviations, and
    stemming would make LARS the same as LAR.
    """
    word = word.lower()
    if len(word) <= 4:
        return word
    if word.endswith("sis"):
        # Snowball leaves the Greek singular apart from its plural (metastasi, metastas).
        word = word[:-3] + "ses"
    # A Snowball stemmer keeps state while it works, so each thread needs its own.
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def has_chinese(form: str) -> bool:
    return _HAN.search(form) is not None


def latin_keys(form: str) -> set[tuple[str, ...]]:
    """The stemmed word sequences a Latin form matches: as written, and run together.

    Running the words together lets "L-OHP" meet "LOHP" and "CA19-9" meet "ca199".
    """
    words = [_plain(word) for word in _WORD.findall(form.translate(_FOLD))]
    if not words:
        return set()
    joined = _WORD.findall("".join(words))
    return {tuple(stem(word) for word in words), tuple(stem(word) for word in joined)}


def chinese_key(form: str) -> str:
    """A Chinese form as compared: lower-cased, without spaces, hyphens and the like."""
    folded = form.translate(_FOLD)
    return "".join(char for char in folded if char not in _SEPARATORS)


def _fold(text: str) -> str:
    """The text as matched, by _FOLD, but quickly where str.lower() keeps its length."""
    lowered = text.lower()
    if len(lowered) != len(text):
        return text.translate(_FOLD)
    return _WIDE.sub(_narrow, lowered) if _WIDE.search(lowered) else lowered


def _narrow(match: re.Match) -> str:
    return chr(_FOLD[ord(match.group())])


def _plain(word: str) -> str:
    return word.replace("'", "").replace("\u2019", "") if "'" in word or "\u2019" in word else word


@functools.cache
def _load_shipped() -> tuple[Term, ...]:
    return _load(VOCABULARY_PATH)


@functools.cache
def _matcher() -> "_Matcher":
    return _Matcher(terms())


def _load(path: Path) -> tuple[Term, ...]:
    """Read and validate a vocabulary file; raise ValueError naming the faulty entry."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path.name} is not valid TOML: {error}") from error
    unknown = set(data) - {"term"}
    if unknown:
        raise ValueError(f"{path.name}: unknown top-level key(s) {sorted(unknown)}; use [[term]]")
    entries = data.get("term")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path.name} has no [[term]] entries")
    loaded = tuple(
        _term(entry, f"{path.name}, {_label(entry, n)}") for n, entry in enumerate(entries, 1)
    )
    _check_unique(loaded, path.name)
    return loaded


def _label(entry: object, number: int) -> str:
    names = []
    if isinstance(entry, dict):
        names = [v for f in ("en", "zh") if isinstance(entry.get(f), list) for v in entry[f]]
    name = next((n for n in names if isinstance(n, str)), None)
    return f"entry {number} ({name})" if name else f"entry {number}"


def _term(entry: object, where: str) -> Term:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: not a table of fields")
    unknown = set(entry) - {"kind", *FIELDS}
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {sorted(unknown)}; known: kind, {', '.join(FIELDS)}"
        )
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    fields = {}
    for field in FIELDS:
        forms = entry.get(field, [])
        if not isinstance(forms, list) or not all(isinstance(form, str) for form in forms):
            raise ValueError(f"{where}: {field} must be a list of strings")
        fields[field] = tuple(form.strip() for form in forms)
        for form in fields[field]:
            if not form:
                raise ValueError(f"{where}: {field} has an empty form")
            if field == "zh" and not has_chinese(form):
                raise ValueError(f"{where}: zh form {form!r} has no Chinese characters")
            if field in ("en", "abbr") and has_chinese(form):
                raise ValueError(f"{where}: {field} form {form!r} has Chinese characters")
            if not has_chinese(form) and not latin_keys(form):
                raise ValueError(f"{where}: form {form!r} has no letters or digits to match")
    if not fields["en"] or not fields["zh"]:
        raise ValueError(f"{where}: needs at least one en and one zh form")
    return Term(key=fields["en"][0].lower(), kind=kind, **fields)


def _check_unique(loaded: tuple[Term, ...], name: str) -> None:
    """Refuse a form that two entries share: find() could not tell which was meant."""
    owners: dict[object, tuple[Term, str]] = {}
    for term in loaded:
        for form in term.forms:
            keys = {chinese_key(form)} if has_chinese(form) else latin_keys(form)
            for key in keys:
                owner, owner_form = owners.setdefault(key, (term, form))
                if owner is not term:
                    raise ValueError(
                        f"{name}: entry {term.key!r} form {form!r} is the same as "
                        f"entry {owner.key!r} form {owner_form!r}; keep it in one entry"
                    )


class _Matcher:
    """The vocabulary compiled for find(): an index of English words, two expressions for Chinese."""

    def __init__(self, vocabulary: tuple[Term, ...]) -> None:
        # First stemmed word -> (stemmed words, term), longest first.
        self.by_first: dict[str, list[tuple[tuple[str, ...], Term]]] = {}
        self.chinese: dict[str, Term] = {}
        han_only, mixed = set(), set()
        for term in vocabulary:
            for form in term.forms:
                if has_chinese(form):
                    key = chinese_key(form)
                    self.chinese[key] = term
                    (han_only if all(_HAN.match(char) for char in key) else mixed).add(key)
                else:
                    for words in latin_keys(form):
                        entries = self.by_first.setdefault(words[0], [])
                        if (words, term) not in entries:
                            entries.append((words, term))
        for entries in self.by_first.values():
            entries.sort(key=lambda entry: -len(entry[0]))
        # Forms wholly in Chinese characters need no separators or case, and compile
        # to a faster expression; the few with ASCII in them get their own.
        self.han_re = re.compile(_trie_pattern(han_only) or "(?!)")
        self.mixed_re = re.compile(_trie_pattern(mixed) or "(?!)")

    def find(self, text: str) -> list[tuple[Term, str, int, int]]:
        folded = _fold(text)
        found = self._latin(folded)
        if _HAN.search(folded):
            chinese = self.chinese
            for match in self.han_re.finditer(folded):
                found.append((match.start(), match.end(), chinese[match.group()]))
            for match in self.mixed_re.finditer(folded):
                found.append((match.start(), match.end(), chinese[chinese_key(match.group())]))
        found.sort(key=_start)
        chosen = []
        i, n = 0, len(found)
        while i < n:
            # A run of matches that overlap one another keeps its longest, then the
            # earliest; most runs are a single match.
            j, run_end = i + 1, found[i][1]
            while j < n and found[j][0] < run_end:
                run_end = max(run_end, found[j][1])
                j += 1
            chosen.extend(found[i : i + 1] if j == i + 1 else _longest_first(found[i:j]))
            i = j
        return [(term, text[start:end], start, end) for start, end, term in chosen]

    def _latin(self, text: str) -> list[tuple[int, int, Term]]:
        words = [(*m.span(), _word_stem(m.group())) for m in _WORD.finditer(text)]
        found = []
        by_first = self.by_first
        for i, (start, _, first) in enumerate(words):
            entries = by_first.get(first)
            if entries is None:
                continue
            for stems, term in entries:
                last = i + len(stems) - 1
                if last >= len(words):
                    continue
                if all(
                    words[i + j][2] == stems[j] and _linked(text, words[i + j - 1], words[i + j])
                    for j in range(1, len(stems))
                ):
                    found.append((start, words[last][1], term))
        return found


def _start(hit: tuple[int, int, Term]) -> int:
    return hit[0]


def _longest_first(hits: list[tuple[int, int, Term]]) -> list[tuple[int, int, Term]]:
    chosen: list[tuple[int, int, Term]] = []
    for hit in sorted(hits, key=lambda hit: (hit[0] - hit[1], hit[0])):
        if all(hit[1] <= start or end <= hit[0] for start, end, _ in chosen):
            chosen.append(hit)
    return sorted(chosen, key=_start)


@functools.lru_cache(maxsize=65536)
def _word_stem(word: str) -> str:
    return stem(_plain(word))


def _linked(text: str, before: tuple[int, int, str], after: tuple[int, int, str]) -> bool:
    """Whether two neighbouring words of a text may be read as one name's words."""
    gap = _GAP.fullmatch(text, before[1], after[0])
    if gap is None:
        return False
    if gap.group().isspace() and after[2].isdigit() and before[2] in _NOT_BEFORE_NUMBER:
        return False
    return True


def _trie_pattern(keys: set[str]) -> str:
    """One expression for many Chinese forms, built as a trie so that it matches the
    longest form at a position.

    Between two characters of which one is ASCII it allows a separator or two, so
    PD-1抑制剂 matches "pd1抑制剂"; ASCII at either end must not run on into a word.
    """
    trie: dict = {}
    for key in keys:
        node = trie
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict, previous: str) -> str:
        branches = []
        for char, child in sorted(node.items()):
            if not char:
                continue
            branch = re.escape(char)
            if not previous:
                # The look-behind follows the first character, keeping that a literal
                # the engine can scan for.
                branch += "(?<![a-z0-9].)" if _is_ascii_word(char) else ""
            elif _is_ascii_word(char) or _is_ascii_word(previous):
                branch = _LOOSE + branch
            branches.append(branch + build(child, char))
        end = "(?![a-z0-9])" if "" in node and _is_ascii_word(previous) else ""
        if not branches:
            return end
        if "" not in node:
            return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return "(?:" + "|".join(branches) + "|" + end + ")"
        return "(?:" + "|".join(branches) + ")?"

    return build(trie, "")


def _is_ascii_word(char: str) -> bool:
    return char.isascii() and char.isalnum()
