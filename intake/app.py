"""intake: what the service is."""

from __future__ import annotations

from intake import retraining, similarity
from intake.config import settings
from intake.handlers import HANDLERS
from intake.models import inbox, metadata, outbox
from intake.protection import key_ring
from intake.router import router
from shared.runtime import Job, ServiceSpec


def build() -> ServiceSpec:
    # The keys first: without them intake refuses to start (protection.MissingKeys says what
    # to set), rather than fail on the first report.
    key_ring()
    similarity.load_dictionary()  # not on the first report
    # Scheduled retraining of the suggestion models, when configured (docs/suggestions.md).
    jobs = (
        [Job("retrain_models", settings().retrain_check_seconds, retraining.scheduled)]
        if settings().retrain_every_days > 0
        else []
    )
    return ServiceSpec(
        name="intake",
        router=router,
        metadata=metadata,
        outbox=outbox,
        inbox=inbox,
        settings=settings(),
        handlers=HANDLERS,
        jobs=jobs,
    )
