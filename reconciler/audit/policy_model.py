"""The manifests' ``policy:`` and ``policyExceptions:`` sections (docs/audit.md).

Only pydantic here: ``reconciler.manifest.models`` imports these two models.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

PolicyRule = Literal[
    "requireMfa",
    "forbidGroupLogins",
    "requireTechRestrictions",
    "forbidMatchAllRestrictions",
    "maxAdministrators",
]
#: What each waivable rule is waived for: the object key an exception must name.
WAIVED_BY: dict[str, str] = {
    "requireMfa": "group",
    "forbidGroupLogins": "group",
    "forbidMatchAllRestrictions": "pattern",
    "maxAdministrators": "technician",
}


class Policy(BaseModel):
    """Rules the declared (validate) and resulting (plan) state must keep; all off by default."""

    model_config = ConfigDict(extra="forbid", strict=True)

    requireMfa: StrictBool = False
    forbidGroupLogins: StrictBool = False
    requireTechRestrictions: StrictBool = False
    forbidMatchAllRestrictions: StrictBool = False
    maxAdministrators: Annotated[StrictInt, Field(ge=0)] | None = None


class PolicyException(BaseModel):
    """One rule waived for one object, with the reason a reviewer reads in the plan."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rule: PolicyRule
    group: Annotated[StrictStr, Field(min_length=1)] | None = None
    technician: Annotated[StrictStr, Field(min_length=1)] | None = None
    pattern: Annotated[StrictStr, Field(min_length=1)] | None = None
    reason: Annotated[StrictStr, Field(min_length=1)]

    @model_validator(mode="after")
    def _one_object(self) -> PolicyException:
        named = [k for k in ("group", "technician", "pattern") if getattr(self, k) is not None]
        expected = WAIVED_BY.get(self.rule)
        if expected is None:
            raise ValueError(f"{self.rule} cannot be waived for one object")
        if named != [expected]:
            raise ValueError(f"a {self.rule} exception names exactly one {expected}")
        if not self.reason.strip():
            raise ValueError("reason must not be blank")
        return self

    @property
    def target(self) -> str:
        """The waived object's identity (group name, username or pattern)."""
        return str(self.group or self.technician or self.pattern)
