"""Parameters of the Priorities chapter (``priorities:`` in the params file; docs/parameters.md).

The factor weights, the banding rules that turn each factor's measure into a 1-5 score, the
harm weights with their source, the residents'-survey indicators, the partnership's own
judgement of its influence (with who gave it), and the current plan's priorities linked to
the partner-indicator targets that measure them. Every default is documented in
docs/parameters.md; every name is checked, and a wrong one is reported with its key.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator, model_validator

from .categories import AGAINST_SOCIETY, ANTI_SOCIAL_BEHAVIOUR, CRIME_TYPES, VICTIM_BASED

FACTORS = ("volume", "trend", "harm", "perception", "influence")
DOMESTIC_ABUSE = "Domestic abuse"
CRIME_CANDIDATES = (VICTIM_BASED, AGAINST_SOCIETY, *CRIME_TYPES)
# Candidates every assessment may have; partner indicators are named by their indicator_id.
FIXED_CANDIDATES = (*CRIME_CANDIDATES, ANTI_SOCIAL_BEHAVIOUR, DOMESTIC_ABUSE)
# What a harm weight may be given for: a crime type, ASB, domestic abuse or an indicator_id.
WEIGHTED = (*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR, DOMESTIC_ABUSE)

Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Score = Annotated[int, Field(ge=1, le=5)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _increasing(v: list[float]) -> list[float]:
    if any(b <= a for a, b in zip(v, v[1:], strict=False)):
        raise ValueError(f"cut points must increase, got {v}")
    return v


def _not_fixed(names, allowed) -> list[str]:
    """Names that are not among `allowed` (they must then be indicator ids, checked when the
    indicator files are read)."""
    return [n for n in names if n not in allowed]


class HarmWeights(_Strict):
    """Harm weight per category, with where it comes from (docs/parameters.md)."""

    source: StrictStr = Field(min_length=1, description="where the weights come from")
    illustrative: bool = Field(False, description="true: not real weights; the report says "
                               "so wherever they are used")
    weights: dict[StrictStr, Weight] = Field(
        min_length=1, description="category -> weight: data.police.uk crime types, "
        "'Anti-social behaviour', 'Domestic abuse' or a partner indicator_id")

    @field_validator("weights")
    @classmethod
    def _some_positive(cls, v: dict[str, float]) -> dict[str, float]:
        if not any(w > 0 for w in v.values()):
            raise ValueError("every weight is 0; give at least one category a weight above 0")
        return v


class Influence(_Strict):
    """The partnership's judgement of how far it can influence each candidate (1-5)."""

    given_by: StrictStr = Field(min_length=1, description="who made the judgement")
    date: dt.date | None = None
    scores: dict[StrictStr, Score] = Field(default_factory=dict)


class CurrentPriority(_Strict):
    """A priority of the current plan: the targets that measure it (by indicator_id, as in
    ``targets``) and the matrix candidates it covers."""

    name: StrictStr = Field(min_length=1)
    indicators: list[StrictStr] = Field(default_factory=list)
    candidates: list[StrictStr] = Field(default_factory=list)


class TrendScores(_Strict):
    clear_worsening: Score = 5
    worsening: Score = 4
    stable: Score = 3
    improving: Score = 2
    clear_improving: Score = 1


class Bands(_Strict):
    """How each factor's measure becomes a 1-5 score: below the first cut 1, at or above the
    last 5."""

    volume_ratio: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [0.8, 0.95, 1.05, 1.25], min_length=4, max_length=4,
        description="focus rate / comparison rate (worse direction for indicators)")
    trend_stable_percent: float = Field(
        5.0, ge=0, description="a change smaller than this (%) and not beyond normal "
        "variation scores 'stable'")
    trend: TrendScores = TrendScores()
    harm_share: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: [0.02, 0.05, 0.10, 0.20], min_length=4, max_length=4,
        description="the candidate's share of all harm-weighted crime")
    perception_percent: list[Annotated[float, Field(ge=0, le=100)]] = Field(
        default_factory=lambda: [10.0, 20.0, 30.0, 40.0], min_length=4, max_length=4,
        description="% of residents concerned (or not feeling safe)")

    @field_validator("volume_ratio", "harm_share", "perception_percent")
    @classmethod
    def _cuts_increase(cls, v: list[float]) -> list[float]:
        return _increasing(v)


class PrioritiesParams(_Strict):
    """The Priorities chapter (docs/parameters.md, "priorities")."""

    weights: dict[StrictStr, Weight] = Field(
        default_factory=lambda: dict.fromkeys(FACTORS, 1.0),
        description="factor -> weight >= 0 (volume, trend, harm, perception, influence)")
    top_n: int = Field(5, ge=1, le=20, description="how many priorities to recommend")
    robust_share: float = Field(
        0.8, gt=0, le=1, description="a candidate is a robust recommendation when it is in "
        "the top top_n in at least this share of weight draws")
    min_factors: int = Field(
        3, ge=1, le=len(FACTORS), description="fewest scored factors a candidate needs to be "
        "recommended (a score resting on one or two factors is shown but not recommended)")
    concentration: float = Field(20.0, gt=0, le=10_000, allow_inf_nan=False)
    draws: int = Field(2000, ge=100, le=100_000)
    seed: int = Field(0, ge=0)
    indicators: list[StrictStr] | None = Field(
        None, description="partner indicators to score (default: all with a better direction)")
    harm_weights: HarmWeights | None = None
    perception: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, description="candidate -> survey indicator_id of residents' "
        "concern (a proportion)")
    influence: Influence | None = None
    current: list[CurrentPriority] = Field(default_factory=list)
    bands: Bands = Bands()

    @field_validator("weights")
    @classmethod
    def _known_factors(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in v if k not in FACTORS]
        if unknown:
            raise ValueError(f"unknown factor(s) {', '.join(map(repr, unknown))}; the factors "
                             f"are {', '.join(FACTORS)}")
        if not any(w > 0 for w in v.values()):
            raise ValueError("every factor weight is 0; give at least one a weight above 0")
        return {f: v.get(f, 0.0) for f in FACTORS}

    @model_validator(mode="after")
    def _names_once(self) -> PrioritiesParams:
        names = [p.name for p in self.current]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"current: priority name(s) {repeated} given more than once")
        return self

    def named_candidates(self) -> dict[tuple, str]:
        """Every candidate or indicator name the section uses, by its key path (relative to
        ``priorities``), that is not a fixed candidate: each must be an indicator_id."""
        out: dict[tuple, str] = {}
        for name in _not_fixed(self.perception, FIXED_CANDIDATES):
            out[("perception", name)] = name
        for name in self.perception.values():
            out[("perception", f"={name}")] = name
        if self.influence is not None:
            for name in _not_fixed(self.influence.scores, FIXED_CANDIDATES):
                out[("influence", "scores", name)] = name
        if self.harm_weights is not None:
            for name in _not_fixed(self.harm_weights.weights, WEIGHTED):
                out[("harm_weights", "weights", name)] = name
        for i, priority in enumerate(self.current):
            for j, name in enumerate(priority.indicators):
                out[("current", i, "indicators", j)] = name
            for j, name in enumerate(priority.candidates):
                if name not in FIXED_CANDIDATES:
                    out[("current", i, "candidates", j)] = name
        for j, name in enumerate(self.indicators or []):
            out[("indicators", j)] = name
        return out


def check_priority_names(path, params, lines: dict, indicator_ids: set[str] | None) -> list:
    """Problems (file, key, line) for names in ``priorities`` that are neither a fixed
    candidate nor an indicator the indicator files define. `indicator_ids` None: no
    indicator files, so every such name is unknown."""
    from .errors import Problem
    from .params_yaml import _line_of

    known = indicator_ids or set()
    problems = []
    for key, name in params.priorities.named_candidates().items():
        if name in known:
            continue
        where = ".".join(str(k) for k in ("priorities", *key) if not str(k).startswith("="))
        fixed = ", ".join(FIXED_CANDIDATES)
        listed = ", ".join(sorted(known)) or "no indicators (data.indicators is not given)"
        problems.append(Problem(str(path), f"{where}: unknown name {name!r}; use a candidate "
                                f"({fixed}) or an indicator_id of the indicator files "
                                f"({listed})", _line_of(lines, ("priorities", *key))))
    return problems
