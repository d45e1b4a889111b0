"""HTTP handlers of the reference service: api, health, items, and the write-key guard.

Handlers receive what they need through their constructors (values, services, a logger); they never
import ``reference_app.app`` or ``reference_app.config`` (main -> config -> app -> handlers -> domain).
"""

from reference_app.handlers.api import APIHandlers
from reference_app.handlers.guard import WRITE_KEY_HEADER, require_write_key
from reference_app.handlers.health import HealthHandlers
from reference_app.handlers.items import ItemHandlers

__all__ = ["APIHandlers", "HealthHandlers", "ItemHandlers", "WRITE_KEY_HEADER", "require_write_key"]
