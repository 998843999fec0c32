"""Work Rasa 3.6 repeats on every turn for nothing, done once per process instead (issue 13).

Applied by scripts/rasa_serve.py before `rasa run` starts; each patch keeps Rasa's behaviour (same answers, same
errors) and is measured in reports/profile_*.md:

- `RemoteAction._validate_action_result`: Rasa calls `jsonschema.validate(result, schema)` on every action-server
  answer, and `validate` first checks the (large, constant) schema against the JSON-Schema meta-schema — most of the
  cost (RasaHQ/rasa#11717). The schema is checked once; each answer is validated by the same compiled validator,
  and a bad answer raises the same `ValidationError` with the same message Rasa adds.
- `Event.resolve_by_type`: every event read from the tracker store walks all subclasses of `Event` (with
  `inspect.isabstract` on each) to find its class by name. The answer is kept per name; an unknown name still goes
  to Rasa's own lookup.
"""
from __future__ import annotations

from typing import Any

_applied: list[str] = []


def _compiled_action_validation() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))  # what jsonschema.validate raises, minus the schema check
        if error is not None:
            error.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def _cached_event_lookup() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    known: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = known.get(type_name)
        if cls is not None:
            return cls
        cls = original(type_name, default)
        if cls is not None and cls is not default:
            known[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign, assignment]


PATCHES = {"compiled_action_validation": _compiled_action_validation, "cached_event_lookup": _cached_event_lookup}


def apply(names: list[str] | None = None) -> list[str]:
    """Apply the named patches (all by default) once per process; the names applied."""
    for name in names or list(PATCHES):
        if name not in _applied:
            PATCHES[name]()
            _applied.append(name)
    return list(_applied)
