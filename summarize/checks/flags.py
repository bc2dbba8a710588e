"""One flagged span: the result's `unsupported` list holds these as plain dicts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Kind = Literal["name", "number", "date"]
Field = Literal["summary_ru", "summary_en"]


@dataclass(frozen=True)
class Flag:
    text: str  # the span as it stands in the summary
    kind: Kind
    field: Field  # which summary it is in

    def to_dict(self) -> dict[str, str]:
        return asdict(self)
