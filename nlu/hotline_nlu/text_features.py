"""Text features for intent classification, shared by the Rasa component and the evaluation baseline.

Pure scikit-learn + jieba; no Rasa import, so `scripts/eval_nlu.py` and tests can build the same features.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy and scikit-learn are imported where they are used: a plain import of this module stays light
    import numpy as np
    from numpy.typing import NDArray
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

from hotline_nlu.numbers import extract

# Placeholders replace entity values before featurising: "欠了两万多" and "欠了8000块" then look alike to the
# classifier, so a handful of examples teaches the pattern, not the number.
PLACEHOLDERS = {
    "amount": " 金额 ",
    "monthly_income": " 收入额 ",
    "people_count": " 人数 ",
    "household_size": " 家庭人口 ",
    "months_owed": " 月数 ",
    "phone": " 电话号码 ",
    "street": " 某街道 ",
    "community": " 某社区 ",
}


def place_matcher(aliases: Mapping[str, tuple[str, str]]) -> re.Pattern[str] | None:
    """One alternation of every place alias, longest first."""
    names = sorted(aliases, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names))) if names else None


def mask_entities(text: str, places: re.Pattern[str] | None = None,
                  aliases: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The message with numbers, phones and place names replaced by their placeholders."""
    pieces: list[str] = []
    last = 0
    for found in extract(text):
        pieces.append(text[last : found.start])
        pieces.append(PLACEHOLDERS[found.entity])
        last = found.end
    pieces.append(text[last:])
    masked = "".join(pieces)
    if places is not None and aliases:
        masked = places.sub(lambda m: PLACEHOLDERS[aliases[m.group(0)][0]], masked)
    return masked


# A greeting in front of a question ("您好！我在工地干了半年…", "律师你好 请问…") must not be read as `greet`: in use
# the classifier reads the message without its leading salutations (split_greeting), and the component reports what
# it cut as `greeting`. Only salutations and "are you there" calls are cut, never 请问.
_TITLE = (r"(?:律师|律師|老师|老師|同志们?|同志們|领导|領導|师傅|師傅|工作人员|工作人員|小姐姐|小哥哥|大哥|大姐|"
          r"美女|靓女|靓仔|阿姨|叔叔|老乡|老鄉|各位|大家|主任|法官|专家|專家|客服|小?助手|小?助理|机器人|朋友们?|"
          r"亲们?|親|老表|老铁|老哥|姐姐|哥哥)")
_HELLO = r"(?:[你您妳尼泥](?:们|們)?好(?![好像些久])(?:呀|啊|哇|哈|吖|啦|鸭)?)"
_TIME_HELLO = r"(?:(?:早上|上午|中午|下午|晚上|早晨|新年|过年|过節|节日|周末)好(?:呀|啊)?|早安|早晨|早啊)"
_LATIN = r"(?:hello|hallo|hi|hey|nihao|nin ?hao|nh|哈[喽啰罗咯]|嗨|嘿|喂+)"
_END = r"(?=[\s,，.。!！~～、:：;；?？…]|$)"  # "有人不…" or "在不同…" go on into a sentence: not a call
_THERE = (rf"(?:(?:请问)?(?:有人|有没有人|有冇人)(?:在|值班|在线|在線)?(?:[吗嗎么嘛]|[没不沒]{_END}|{_END})"
          rf"|在(?:[吗嗎么嘛]|不在|线[吗嗎]|線嗎|的吧|(?:不|否|线|線){_END})|在(?=[?？]))")
_BOTHER = r"(?:(?:不好意思|冒昧)?打扰(?:一下下?|了|啦|您了|您一下|一哈)?|打擾(?:一下|了)?)"
_SEP = r"[\s,，.。!！~～、:：;；?？…👋🙏☀️😊]*"
_GREETING_PIECE = re.compile(
    rf"(?:[\u4e00-\u9fff]{{0,6}}?{_TITLE}[\s,，]*(?:{_HELLO}|好(?![好像些久的])(?:呀|啊)?)"
    rf"|{_HELLO}(?:[\s,，]*[\u4e00-\u9fff]{{0,3}}?{_TITLE})?"
    rf"|{_TIME_HELLO}(?:[\s,，]*{_TITLE})?|{_LATIN}(?:[\s,，]*{_TITLE})?|{_THERE}|{_BOTHER}){_SEP}",
    re.IGNORECASE,
)


def split_greeting(text: str) -> tuple[str, str]:
    """(leading greeting, the rest). The greeting is "" when the message does not start with one; the rest is ""
    when the message is nothing but greetings (then it is a plain `greet`)."""
    pos = 0
    while pos < len(text):
        m = _GREETING_PIECE.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    lead = _SEP_RE.match(text, 0)
    if pos == 0 or (lead and lead.end() == pos):
        return "", text
    rest = text[pos:]
    # A latin greeting glued to a word ("hi"+"story") is not a greeting.
    if rest and rest[0].isascii() and rest[0].isalnum() and text[pos - 1].isascii() and text[pos - 1].isalnum():
        return "", text
    return text[:pos].strip(), rest.strip()


_SEP_RE = re.compile(_SEP)


_SIMPLIFIER = None


def simplified(text: str) -> str:
    """The message in simplified characters (OpenCC t2s, ~6 µs a message): questions posted from Hong Kong, Taiwan or
    abroad (「老闆拖欠工資怎麼辦」) share few character n-grams and no Jieba words with the simplified training data."""
    global _SIMPLIFIER
    if _SIMPLIFIER is None:
        import opencc

        _SIMPLIFIER = opencc.OpenCC("t2s")
    return _SIMPLIFIER.convert(text)


# Punctuation and symbols between clauses. Real questions come with none, with commas only, or with a mix of full-
# and half-width marks; read without them, a run-on message and its punctuated twin give the same n-grams. Spaces
# stay: the entity placeholders are spaced words.
_PUNCT = re.compile(r"[,，.。!！?？~～、:：;；…\-—_·'\"“”‘’()（）【】\[\]《》<>/|*#@&^=+]+")


def without_punctuation(text: str) -> str:
    return _PUNCT.sub("", text)


def intent_input(text: str, places: re.Pattern[str] | None = None,
                 aliases: Mapping[str, tuple[str, str]] | None = None, *, mask: bool = True,
                 strip_greeting: bool = True, simplify: bool = False, drop_punctuation: bool = False) -> str:
    """What the intent classifier reads: entities masked and, with strip_greeting (in use), the message without its
    leading greeting unless that is all it is; with simplify, in simplified characters; with drop_punctuation,
    without punctuation (after the greeting cut and the masking, which read it)."""
    if simplify:
        text = simplified(text)
    if strip_greeting:
        text = split_greeting(text)[1] or text
    text = mask_entities(text, places, aliases) if mask else text
    return without_punctuation(text) if drop_punctuation else text


def jieba_tokens(text: str) -> list[str]:
    import jieba

    return [t for t in jieba.lcut(text) if t.strip()]


def pinyin_tokens(text: str) -> list[str]:
    """Toneless syllables of the Chinese characters: voice input and hurried typing swap homophones (工资 → 工姿,
    律师 → 绿师, 调解 → 条解), which share no characters but share every syllable."""
    from pypinyin import Style, lazy_pinyin

    return [s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s.strip()]


class _Tail:
    """The last n characters of a message (picklable, unlike a lambda): in a long story the ask comes last."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, text: str) -> str:
        return text.rstrip(" ，,。.！!？?…~～")[-self.n :].lower()


def build_vectorizer(char_ngrams: tuple[int, int] = (1, 4), word_ngrams: tuple[int, int] = (1, 2),
                     words: bool = True, pinyin: bool = False,
                     preprocess: Callable[[str], str] | None = None, tail: int = 0) -> FeatureUnion:
    """TF-IDF over character n-grams (robust to typos and unsegmented text), Jieba word n-grams and, optionally,
    pinyin syllable 1–2-grams and character 1–3-grams of the last `tail` characters."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts = [
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=char_ngrams, sublinear_tf=True, min_df=1,
                                  preprocessor=preprocess, lowercase=True)),
    ]
    if words:
        parts.append(
            ("words", TfidfVectorizer(tokenizer=jieba_tokens, token_pattern=None, ngram_range=word_ngrams,
                                      sublinear_tf=True, preprocessor=preprocess, lowercase=True))
        )
    if pinyin:
        parts.append(
            ("pinyin", TfidfVectorizer(tokenizer=pinyin_tokens, token_pattern=None, ngram_range=(1, 2),
                                       sublinear_tf=True, preprocessor=preprocess, lowercase=True))
        )
    if tail:
        parts.append(
            ("tail", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, preprocessor=_Tail(tail)))
        )
    return FeatureUnion(parts)


def build_classifier(C: float = 20.0, class_weight: str | None = "balanced") -> LogisticRegression:
    """Multinomial logistic regression over the TF-IDF features. SAGA, not lbfgs: on ~5,000 messages x 160,000
    n-grams lbfgs took 67 s and SAGA 12 s for probabilities within 0.01 of each other (scripts/sweep_intent_features.py
    --solvers). A fixed random_state keeps SAGA's shuffling, and so the model, the same from one training to the next."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, solver="saga", tol=1e-3, max_iter=3000, class_weight=class_weight, random_state=0)


def build_intent_models(config: Mapping[str, Any]) -> list[tuple[float, Any]]:
    """The unfitted (weight, Pipeline) pairs whose averaged probabilities classify intents, from the component's
    config: the full model (characters, Jieba words, pinyin) and, with `chars_weight` > 0, a characters-only second
    opinion. Averaging the two lifted 5-fold CV on training from 0.906 to 0.910 (5,418 examples): the models err
    on different messages (scripts/sweep_intent_features.py --second)."""
    from sklearn.pipeline import Pipeline

    full = Pipeline([
        ("features", build_vectorizer(char_ngrams=(config["char_min_ngram"], config["char_max_ngram"]),
                                      word_ngrams=(1, config["word_max_ngram"]), words=config["use_words"],
                                      pinyin=config["use_pinyin"], tail=int(config.get("tail_chars", 0)))),
        ("clf", build_classifier(config["C"], config.get("class_weight", "balanced"))),
    ])
    weight = float(config.get("chars_weight", 0.0))
    if weight <= 0:
        return [(1.0, full)]
    chars = Pipeline([
        ("features", build_vectorizer(char_ngrams=(config["char_min_ngram"], config["chars_max_ngram"]),
                                      words=False)),
        ("clf", build_classifier(config["C"], config.get("class_weight", "balanced"))),
    ])
    return [(1.0 - weight, full), (weight, chars)]


def tempered(proba: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    """Probabilities with their log-odds divided by the temperature: each message's ranking of intents is kept, and
    its confidence sharpened (below 1) or flattened (above 1). Averaging two regularised models leaves confidences
    too low for how often they are right (scripts/sweep_intent_features.py --fallback, reports/fallback_sweep.md)."""
    import numpy as np

    logits = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=-1, keepdims=True)


def iter_texts(examples: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for text, label in examples:
        texts.append(text)
        labels.append(label)
    return texts, labels


class LinearTextModel:
    """Inference for a fitted FeatureUnion of TfidfVectorizers + multinomial LogisticRegression, without sklearn's
    per-call validation overhead: a 40-character message scores in well under a millisecond."""

    def __init__(self, pipeline: Pipeline) -> None:
        import numpy as np

        union, clf = pipeline.named_steps["features"], pipeline.named_steps["clf"]
        self.classes = [str(c) for c in clf.classes_]
        self.parts = []  # (analyzer, vocabulary, idf, column offset)
        offset = 0
        for _, vec in union.transformer_list:
            self.parts.append((vec.build_analyzer(), vec.vocabulary_, vec.idf_, offset, vec.sublinear_tf))
            offset += len(vec.vocabulary_)
        coef = clf.coef_
        if coef.shape[0] == 1:  # binary LR stores one row; expand to two classes
            coef = np.vstack([-coef[0], coef[0]])
            intercept = np.array([-clf.intercept_[0], clf.intercept_[0]])
        else:
            intercept = clf.intercept_
        self.coef_t = np.ascontiguousarray(coef.T)  # (features, classes): one row gather per active feature
        self.intercept = intercept

    def predict_proba(self, text: str) -> NDArray[np.float64]:
        import math

        import numpy as np

        cols: list[int] = []
        vals: list[float] = []
        for analyzer, vocab, idf, offset, sublinear in self.parts:
            counts: dict[int, int] = {}
            for gram in analyzer(text):
                j = vocab.get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            part = [((1.0 + math.log(c)) if sublinear else float(c)) * idf[j] for j, c in counts.items()]
            norm = math.sqrt(sum(v * v for v in part)) or 1.0
            cols.extend(offset + j for j in counts)
            vals.extend(v / norm for v in part)
        scores = self.intercept.copy()
        if cols:
            scores += np.asarray(vals) @ self.coef_t[cols]
        scores -= scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()


class AveragedTextModel:
    """The weighted average of fitted pipelines' probabilities, each scored by LinearTextModel."""

    def __init__(self, weighted: Sequence[tuple[float, Any]]) -> None:
        self.models = [(weight, LinearTextModel(pipeline)) for weight, pipeline in weighted]
        self.classes = self.models[0][1].classes
        if any(model.classes != self.classes for _, model in self.models):
            raise ValueError("the averaged models were trained on different intents")

    def predict_proba(self, text: str) -> NDArray[np.float64]:
        (weight, model), *rest = self.models  # never empty: __init__ read its first
        proba = weight * model.predict_proba(text)
        for weight, model in rest:
            proba = proba + weight * model.predict_proba(text)
        return proba
