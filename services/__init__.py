"""Process entry points and composition: which services run in this process, and how."""

SERVICE_NAMES = ("intake", "routing", "sla", "callback", "analytics", "accounts")
DEFAULT_PORTS = {
    "intake": 8101,
    "routing": 8102,
    "sla": 8103,
    "callback": 8104,
    "analytics": 8105,
    "accounts": 8106,
}
EMBEDDED_PORT = 8000
