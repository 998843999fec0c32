"""Rasa's CRF entity extractor, stored trained (issue 13: model load).

Rasa 3.6's CRFEntityExtractor persists its training set and trains the CRF again each time a model is loaded: 33 of
the 46 s a Rasa process took to load ours (cProfile of `Agent.load`). This one also stores the trained taggers — the
python-crfsuite models, which sklearn_crfsuite pickles with their model file — and loads those. Training, features
and predictions are Rasa's own; a model trained before this component has no taggers file and loads the old way.
Only `.venv-rasa` imports this module.
"""
from __future__ import annotations

import logging
import pickle
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken
from rasa.shared.utils.io import read_json_file

log = logging.getLogger(__name__)
TAGGERS = "crf_taggers.pkl"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class StoredCRFEntityExtractor(CRFEntityExtractor):
    """CRFEntityExtractor that keeps its trained taggers in the model instead of retraining them at load."""

    def persist(self, dataset: list[list[CRFToken]]) -> None:
        super().persist(dataset)
        with self._model_storage.write_to(self._resource) as model_dir, (model_dir / TAGGERS).open("wb") as f:
            pickle.dump(self.entity_taggers, f, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CRFEntityExtractor:
        try:
            with model_storage.read_from(resource) as model_dir:
                if (model_dir / TAGGERS).exists():
                    # The file is part of the model archive this process was told to serve: trusted like the rest.
                    with (model_dir / TAGGERS).open("rb") as f:
                        taggers = pickle.load(f)
                    extractor = cls(config, model_storage, resource, taggers)
                    extractor.crf_order = read_json_file(model_dir / "crf_order.json")
                    return extractor
        except ValueError:  # no such resource: Rasa's load says so and returns an untrained extractor
            pass
        log.info("no stored CRF taggers in this model: training them again while loading")
        return super().load(config, model_storage, resource, execution_context, **kwargs)
