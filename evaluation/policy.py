"""Who may see the savings and the scorecard: the one role policy that the API (``router.py``) and the
management page (``services/web/pages/gevinster.py``) both apply."""

from __future__ import annotations

from services.common.auth import Role

SAVINGS_ROLES = frozenset({Role.LEDELSE, Role.ADMIN})
