"""What every store module raises on input it refuses."""
from __future__ import annotations


class StoreError(ValueError):
    """Input the store refuses; the message is one line for the CLI or API to show."""
