"""The policies' use cases (时限标准): store a new version of a policy, or retire one. Either
recomputes the open clocks. The rules (matching, validation) are sla/policies.py's."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import Conflict, NotFound
from sla import policies
from sla.models import PolicyVersion
from sla.policies import Policy
from sla.recompute import recompute_open_clocks
from sla.stored import load_policies


async def put_policy(
    session: AsyncSession, policy: Policy, who: Principal, now: datetime
) -> tuple[PolicyVersion, int]:
    """A new version of the policy `code` (version 1 if new); open clocks are recomputed."""
    policies.validate(policy)
    existing = await load_policies(session)
    policies.validate_versioning(policy, existing, now)
    version = max((p.version for p in existing if p.code == policy.code), default=0) + 1
    row = PolicyVersion(
        code=policy.code,
        version=version,
        name=policy.name,
        urgency=policy.urgency,
        kind=policy.kind,
        category=policy.category,
        unit_class=policy.unit_class,
        sign_amount=policy.sign.amount,
        sign_unit=policy.sign.unit,
        response_amount=policy.response.amount,
        response_unit=policy.response.unit,
        completion_amount=policy.completion.amount,
        completion_unit=policy.completion.unit,
        reminders=json.dumps(
            [
                {
                    k: v
                    for k, v in (("fraction", r.fraction), ("hours_before", r.hours_before))
                    if v is not None
                }
                for r in policy.reminders
            ]
        ),
        effective_from=policy.effective_from,
        retired=policy.retired,
        created_at=now,
        created_by=who.subject,
    )
    session.add(row)
    await session.flush()
    return row, await recompute_open_clocks(session, now)


async def retire_policy(
    session: AsyncSession, code: str, effective_from: datetime, who: Principal, now: datetime
) -> tuple[PolicyVersion, int]:
    """Retire a policy from `effective_from`: a new version that matches nothing."""
    versions = [p for p in await load_policies(session) if p.code == code]
    if not versions:
        raise NotFound(f"no policy {code}", field="code")
    latest = max(versions, key=lambda p: p.version)
    if latest.retired:
        raise Conflict(f"policy {code} is already retired", allowed_actions=["PUT"])
    return await put_policy(
        session, replace(latest, retired=True, effective_from=effective_from), who, now
    )
