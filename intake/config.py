from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from intake.domain import AttachmentRules
from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """intake's settings (env prefix `INTAKE_`); defaults are documented in docs/intake.md."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    # Same matter (同一诉求): text similarity threshold (F1 86.7 on the 附件3 pairs at 0.40,
    # docs/suggestions.md), and how near two points must be.
    same_matter_threshold: float = 0.40
    same_place_metres: float = 300.0
    # Repeats (重复诉求): the same citizen, the same matter, an open ticket within the window.
    repeat_window_days: int = 30
    # The unified form (POST /api/v1/tickets) is what operators and older gateways post; it
    # links repeats only when this is on (the channel endpoints always do).
    link_repeats_on_form: bool = False
    # Clusters (集中诉求): this many different reporters of one matter within the window.
    cluster_window_days: int = 7
    cluster_min_reporters: int = 3
    # Suggestions (智能分类, docs/suggestions.md): a learned model's best category, urgency or
    # kind is pre-filled only at this probability or more; below it the rules answer.
    suggestion_min_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    # Scheduled retraining from intake's own handled tickets (0: off, the default): every this
    # many days one replica (a lease row) retrains in the background and stores new versions,
    # put in use only when they beat the ones in use on their held-out figures.
    retrain_every_days: float = Field(default=0, ge=0)
    # The tickets received in the last this many days are the examples.
    retrain_history_days: int = Field(default=365, ge=1)
    # How often each replica looks whether retraining is due.
    retrain_check_seconds: float = Field(default=3600.0, gt=0)
    # Attachments: metadata only (the blob lives in the channel's own store).
    attachment_types: list[str] = Field(
        default_factory=lambda: [
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/heic",
            "video/mp4",
            "audio/mpeg",
            "audio/wav",
            "application/pdf",
        ]
    )
    attachment_max_bytes: int = 20 * 1024 * 1024
    attachments_max: int = 9

    def attachment_rules(self) -> AttachmentRules:
        """The attachment settings as the rule that checks a report's or an addition's."""
        return AttachmentRules(
            types=frozenset(self.attachment_types),
            max_bytes=self.attachment_max_bytes,
            max_count=self.attachments_max,
        )

    # Open311: api_key → the gateway it stands for. The default key is for development only.
    open311_api_keys: dict[str, str] = Field(
        default_factory=lambda: {"dev-open311-key": "open311-dev"}
    )
    # Personal data at rest (intake/protection.py). `id:base64key` pairs, comma-separated, the
    # current key first (AES-GCM, 32-byte keys); older keys still decrypt until
    # `python -m intake.keys reencrypt` has rewritten every value. Unset: the public development
    # keys, which only the embedded run and the demo accept (with a loud warning).
    encryption_keys: str | None = None
    # The blind index's HMAC-SHA256 key (base64, 32 bytes or more): finds a citizen's tickets by
    # phone without decrypting. Changing it needs `python -m intake.keys reencrypt` too.
    blind_index_key: str | None = None
    # Open311's public reads list the tickets of these channels only (GeoReport clients, whose
    # reports are public by that platform's convention); a phone call or an SMS is never
    # published. Empty: nothing is listed publicly.
    open311_public_channels: list[str] = Field(default_factory=lambda: ["open311"])
    # Mini-program lookups (number + phone check): at most this many per window, per ticket
    # number and per client address.
    lookup_window_seconds: int = 600
    lookup_max_per_ticket: int = 5
    lookup_max_per_client: int = 20


@lru_cache
def settings() -> IntakeSettings:
    return IntakeSettings()
