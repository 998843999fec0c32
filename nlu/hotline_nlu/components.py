"""Custom Rasa 3.6 NLU components for Chinese hotline messages.

- `TfidfIntentClassifier`: TF-IDF over character and Jieba-word n-grams of the entity-masked text, with a
  logistic regression. A greeting in front of a question is cut before classifying ("您好！老板欠我工资…" is
  `wage_arrears`) and reported in the parse result as `greeting`; a message that is only a greeting is `greet`. Chosen by measurement (scripts/eval_nlu.py, reports/nlu_eval.md): it beats DIET and Rasa's
  LogisticRegressionClassifier on our test set, trains in seconds and parses in about a millisecond.
- `ChineseEntityNormalizer`: finds amounts, counts, months, phones and roster places by rule, normalises every
  numeric entity value to an integer (三万五 → 35000), maps places to their canonical roster names (水上 → 沿江街道),
  and drops learned spans that duplicate a rule span.
Only `.venv-rasa` imports this module; the pure parts live in numbers.py and text_features.py.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_nlu.employer import find_employers, plausible_employer
from hotline_nlu.numbers import NUMERIC_ENTITIES, extract, normalise_entity
from hotline_nlu.text_features import (
    AveragedTextModel,
    build_intent_models,
    intent_input,
    place_matcher,
    split_greeting,
    tempered,
)

logger = logging.getLogger(__name__)

RULE_ENTITIES = (*NUMERIC_ENTITIES, "phone")
# Parse-result key for the greeting cut off in front of a question.
GREETING_KEY = "greeting"
PLACE_ENTITIES = ("street", "community")
# 城中区 is the district, not 城中街道.
_NOT_A_PLACE_AFTER = re.compile(r"区")


def _place_aliases(training_data: TrainingData) -> dict[str, tuple[str, str]]:
    """alias → (entity, canonical name), from the roster's lookup tables and synonyms (gen_nlu_lookups.py)."""
    aliases: dict[str, tuple[str, str]] = {}
    synonyms = training_data.entity_synonyms
    for table in training_data.lookup_tables:
        if table.get("name") not in PLACE_ENTITIES:
            continue
        for element in table.get("elements", []):
            element = str(element).strip()
            if element:
                aliases[element] = (table["name"], synonyms.get(element, element))
    return aliases


def _load_aliases(model_storage: ModelStorage, resource: Resource) -> dict[str, tuple[str, str]]:
    try:
        with model_storage.read_from(resource) as path:
            raw = json.loads((Path(path) / "places.json").read_text(encoding="utf-8"))
            return {k: (v[0], v[1]) for k, v in raw.items()}
    except (ValueError, FileNotFoundError):
        return {}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TfidfIntentClassifier(GraphComponent, IntentClassifier):
    """Intent classification from TF-IDF n-grams of the entity-masked message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "char_min_ngram": 1,
            "char_max_ngram": 4,
            "word_max_ngram": 2,
            "use_words": True,
            "use_pinyin": True,
            "C": 20.0,
            # A characters-only model (char 1–chars_max_ngram) averaged in with this weight; 0 turns it off.
            "chars_weight": 0.5,
            "chars_max_ngram": 3,
            "mask_entities": True,
            # Classify the message without its leading greeting (text_features.split_greeting).
            "strip_greeting": True,
            # Read the message in simplified characters / without punctuation (text_features.intent_input).
            "simplify": False,
            "drop_punctuation": False,
            # A message that reads as greet is read as the question behind its greeting when that reading's
            # confidence exceeds this times the whole message's (see _predict).
            "greeting_switch": 1.0,
            # Confidences' log-odds divided by this (text_features.tempered); 1 leaves them as the models give them.
            "temperature": 1.0,
            "ranking_length": 10,
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 models: list[tuple[float, Any]] | None = None,
                 aliases: dict[str, tuple[str, str]] | None = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._fast = AveragedTextModel(models) if models else None
        self._aliases = aliases or {}
        self._places = place_matcher(self._aliases)

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TfidfIntentClassifier:
        return cls(config, model_storage, resource)

    def _split(self, text: str) -> tuple[str, str]:
        """(greeting cut off, the text the classifier reads)."""
        if not self._config.get("strip_greeting", False):
            return "", text
        greeting, rest = split_greeting(text)
        return (greeting, rest) if rest else ("", text)

    def _prepare(self, text: str, *, training: bool = False) -> str:
        # The greeting is cut in use only. Cut in training too, SAGA stops converging on the full model (n_iter hits
        # the cap: > 200 epochs against 90 on the same data uncut, measured 2026-12-02) and training runs for most of
        # an hour; the training data already teaches that a greeting in front of a question keeps the question's
        # intent, and in use the classifier reads the question alone.
        return intent_input(text, self._places, self._aliases, mask=self._config["mask_entities"],
                            strip_greeting=self._config.get("strip_greeting", False) and not training,
                            simplify=self._config.get("simplify", False),
                            drop_punctuation=self._config.get("drop_punctuation", False))

    def _predict(self, text: str, greeting: str):  # probabilities over self._fast.classes
        """The whole message's probabilities, unless they say `greet` while the message without its greeting reads
        as another intent with a confidence above `greeting_switch` times the whole's (「您好！老板欠我工资…」): then
        the question's. Reading every message without its greeting cost 1 point of CV accuracy (greetings followed
        by who is asking read as a topic); the factor trades those against questions behind a greeting
        (scripts/sweep_long_messages.py --switch-factors)."""
        import numpy as np

        whole = self._fast.predict_proba(self._prepare(text, training=True))
        if not greeting or self._fast.classes[int(np.argmax(whole))] != "greet":
            return whole
        cut = self._fast.predict_proba(self._prepare(text))
        if (self._fast.classes[int(np.argmax(cut))] != "greet"
                and cut.max() > self._config.get("greeting_switch", 1.0) * whole.max()):
            return cut
        return whole

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            logger.warning("TfidfIntentClassifier needs at least two intents; skipping training.")
            return self._resource
        self._aliases = _place_aliases(training_data)
        self._places = place_matcher(self._aliases)
        texts = [self._prepare(m.get(TEXT), training=True) for m in examples]
        models = [(weight, pipeline.fit(texts, labels)) for weight, pipeline in build_intent_models(self._config)]
        self._fast = AveragedTextModel(models)
        with self._model_storage.write_to(self._resource) as path:
            joblib.dump(models, Path(path) / "intent_models.joblib")
            (Path(path) / "places.json").write_text(json.dumps(self._aliases, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> TfidfIntentClassifier:
        try:
            with model_storage.read_from(resource) as path:
                models = joblib.load(Path(path) / "intent_models.joblib")
        except (ValueError, FileNotFoundError):
            logger.warning("No trained TfidfIntentClassifier found; it will predict nothing.")
            models = None
        return cls(config, model_storage, resource, models, _load_aliases(model_storage, resource))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if self._fast is None or not text:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            greeting, _ = self._split(text)
            if greeting:  # the dialogue answers the question; the greeting is kept for whoever wants it
                message.set(GREETING_KEY, greeting, add_to_output=True)
            probs = self._predict(text, greeting)
            if self._config.get("temperature", 1.0) != 1.0:
                probs = tempered(probs, self._config["temperature"])
            order = np.argsort(probs)[::-1][: self._config["ranking_length"]]
            ranking = [{INTENT_NAME_KEY: self._fast.classes[i], PREDICTED_CONFIDENCE_KEY: float(probs[i])}
                       for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class ChineseEntityNormalizer(GraphComponent, EntityExtractorMixin):
    """Rule entities for numbers, phones and places; normalised values for every entity. Put it last."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"keep_learned_numbers": True}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 aliases: dict[str, tuple[str, str]] | None = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._aliases = aliases or {}
        self._places = place_matcher(self._aliases)

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> ChineseEntityNormalizer:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self._aliases = _place_aliases(training_data)
        self._places = place_matcher(self._aliases)
        with self._model_storage.write_to(self._resource) as path:
            (Path(path) / "places.json").write_text(json.dumps(self._aliases, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> ChineseEntityNormalizer:
        return cls(config, model_storage, resource, _load_aliases(model_storage, resource))

    def _canonical_place(self, entity: str, value: str) -> tuple[str, str] | None:
        """(entity, canonical) for a place span, trusting the roster over the learned label."""
        value = value.strip()
        if value in self._aliases:
            return self._aliases[value]
        for suffix in ("街道办", "街道", "社区", "村", "那边", "这边"):
            stem = value.removesuffix(suffix)
            if stem != value and stem in self._aliases:
                return self._aliases[stem]
        return None

    def _rule_entities(self, text: str) -> list[dict[str, Any]]:
        found = [
            {ENTITY_ATTRIBUTE_TYPE: f.entity, ENTITY_ATTRIBUTE_START: f.start, ENTITY_ATTRIBUTE_END: f.end,
             ENTITY_ATTRIBUTE_VALUE: f.value, TEXT: f.text, EXTRACTOR: self.__class__.__name__}
            for f in extract(text)
        ]
        if self._places is not None:
            for m in self._places.finditer(text):
                if _NOT_A_PLACE_AFTER.match(text, m.end()):
                    continue
                entity, canonical = self._aliases[m.group(0)]
                # 中南社区 after a bare street short name: the suffix decides.
                tail = text[m.end() : m.end() + 2]
                if entity == "street" and tail.startswith(("社区", "村")):
                    community = self._canonical_place("community", m.group(0) + tail[: 2 if tail == "社区" else 1])
                    if community:
                        entity, canonical = community
                found.append({ENTITY_ATTRIBUTE_TYPE: entity, ENTITY_ATTRIBUTE_START: m.start(),
                              ENTITY_ATTRIBUTE_END: m.end(), ENTITY_ATTRIBUTE_VALUE: canonical,
                              TEXT: m.group(0), EXTRACTOR: self.__class__.__name__})
        return found

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            try:
                message.set(ENTITIES, self._merge(text, message.get(ENTITIES, [])), add_to_output=True)
            except Exception:  # a broken message must not break the turn; keep what the other extractors found
                logger.exception("entity normalisation failed")
        return messages

    def _merge(self, text: str, learned: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rule = self._rule_entities(text)
        spans = [(e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]) for e in rule]
        merged = list(rule)
        for entity in learned:
            etype = entity.get(ENTITY_ATTRIBUTE_TYPE)
            start, end = entity.get(ENTITY_ATTRIBUTE_START, 0), entity.get(ENTITY_ATTRIBUTE_END, 0)
            overlaps = any(start < e and s < end for s, e in spans)
            if etype in RULE_ENTITIES or etype in PLACE_ENTITIES:
                if overlaps:
                    continue
                raw = text[start:end] if end > start else str(entity.get(ENTITY_ATTRIBUTE_VALUE, ""))
                if etype in PLACE_ENTITIES:
                    if _NOT_A_PLACE_AFTER.match(text, end):
                        continue
                    place = self._canonical_place(etype, str(entity.get(ENTITY_ATTRIBUTE_VALUE, raw))) \
                        or self._canonical_place(etype, raw)
                    if place is None:
                        continue
                    entity = {**entity, ENTITY_ATTRIBUTE_TYPE: place[0], ENTITY_ATTRIBUTE_VALUE: place[1]}
                else:
                    if not self._config["keep_learned_numbers"]:
                        continue
                    value = normalise_entity(etype, raw)
                    if value is None:
                        continue
                    entity = {**entity, ENTITY_ATTRIBUTE_VALUE: value}
            elif etype == "employer":
                value = str(entity.get(ENTITY_ATTRIBUTE_VALUE, "")).strip(" ，,。的")
                if len(value) < 2 and not re.search(r"[老小][\u4e00-\u9fff]", value):
                    continue
                if not plausible_employer(value):
                    continue
                entity = {**entity, ENTITY_ATTRIBUTE_VALUE: value}
            merged.append(entity)
        # Employers by rule where nothing (learned or rule) already covers that part of the message.
        covered = [(e.get(ENTITY_ATTRIBUTE_START, 0), e.get(ENTITY_ATTRIBUTE_END, 0)) for e in merged]
        for f in find_employers(text):
            if not any(f.start < e and s < f.end for s, e in covered):
                merged.append({ENTITY_ATTRIBUTE_TYPE: "employer", ENTITY_ATTRIBUTE_START: f.start,
                               ENTITY_ATTRIBUTE_END: f.end, ENTITY_ATTRIBUTE_VALUE: f.value, TEXT: f.text,
                               EXTRACTOR: self.__class__.__name__})
        merged.sort(key=lambda e: e.get(ENTITY_ATTRIBUTE_START, 0))
        return merged
