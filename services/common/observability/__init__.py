"""Operations, one concern a module: ``logs`` (structured logs with request ids, CPR-masked), ``http`` (the
request-id, access-log and HTTP-metrics middleware), ``metrics`` (the /metrics exposition) and ``readiness``
(the checks behind /readyz). Services contribute their own readiness checks and metrics collectors through
their ``ServicePlugin``; nothing here imports a service.

Logs never carry request bodies, query strings or raw paths (they may hold questions, document text or ids):
the access line names the route template. CPR numbers that slip into a message are masked by privacy's filter
on every handler, and in tracebacks by the formatters in ``logs``.
"""
