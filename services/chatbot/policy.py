"""Who may do what with the guidance chat beyond asking: the one role policy that the service, the API and
the pages (``services/web/pages/vejledning.py``) apply.

Every logged-in user may ask in the collections they may read; the editors (management and admin) see the
content gaps and attach asked questions to the source that answers them.
"""

from __future__ import annotations

from services.common.auth import Role

GAP_EDITOR_ROLES = frozenset({Role.ADMIN, Role.LEDELSE})
