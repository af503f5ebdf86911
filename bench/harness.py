"""What the benchmark scripts share: turning their figures into plain JSON."""

from __future__ import annotations

import math
from typing import Any


def to_json(value: Any) -> Any:
    """numpy scalars, NaN and tuples to plain JSON."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
