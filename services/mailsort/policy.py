"""Who may do what in mail sorting: the one role policy that the API (``router.py``) and the page
(``services/web/pages/post.py``) both apply.

Any logged-in user or integration may hand kai a mail to route and list the queues; the clerks' work (the
routed mails with their text, review, corrections, training and promoting models) belongs to IT and admin.
"""

from __future__ import annotations

from services.common.auth import Role

CLERK_ROLES = frozenset({Role.IT, Role.ADMIN})
