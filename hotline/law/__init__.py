"""Law as dated data: see params.py and data/*.yaml."""
from hotline.law.params import (
    ParameterError,
    ParameterNotInForce,
    ParameterValue,
    UnknownParameter,
    history,
    latest_verified,
    parameter,
    parameter_or_none,
)

__all__ = [
    "ParameterError",
    "ParameterNotInForce",
    "ParameterValue",
    "UnknownParameter",
    "history",
    "latest_verified",
    "parameter",
    "parameter_or_none",
]
