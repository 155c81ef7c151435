"""What every route of routing declares: the unit of work, the time, the roles allowed, uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, require
from shared.errors import InvalidInput
from shared.runtime import current_time, session_dependency

Session = Annotated[AsyncSession, Depends(session_dependency("routing"))]
Now = Annotated[datetime, Depends(current_time)]
UnitOnly = Annotated[Principal, Depends(require(Role.UNIT))]
Reader = Annotated[
    Principal, Depends(require(Role.UNIT, Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE))
]
Centre = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE))]
# The areas and their map are also for leaders (领导), who read the figures by area.
AreaReader = Annotated[
    Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE, Role.LEADER))
]
Dispatcher = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR))]
Admin = Annotated[Principal, Depends(require(Role.SUPERVISOR))]

# A directory or catalogue file is a few hundred rows; anything far larger is a mistake, refused
# before it is parsed.
MAX_UPLOAD = 10 * 1024 * 1024


async def upload(file: UploadFile) -> tuple[str, bytes]:
    """An uploaded file's name and content, refused when larger than `MAX_UPLOAD`."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput("file: larger than 10 MB.", field="file")
    return file.filename or "", content
