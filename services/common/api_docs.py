"""The API documentation at /docs: Swagger UI 5 (OpenAPI 3.1, as FastAPI writes it) from the files the
installed ``fastapi-offline`` package ships, so the page loads nothing from the internet. ReDoc is off: it
needs inline styles and web workers from blob: URLs, which the pages' Content Security Policy forbids."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from services.common.middleware import content_security_policy

DOCS_URL = "/docs"
ASSETS_URL = "/docs/swagger-ui"
# swagger-ui-bundle.js, swagger-ui.css and favicon.png (and ReDoc's bundle, unused)
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"


def _inline_script_hashes(html: str) -> list[str]:
    """The base64 sha256 of each inline ``<script>`` in ``html``, as a CSP hash source wants it."""
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    return [base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() for script in scripts]


def add_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI for ``app.openapi_url`` at /docs, its assets beside it."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="swagger-ui")
    html = get_swagger_ui_html(
        openapi_url=str(app.openapi_url),
        title=f"{app.title} – API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=None,
        # Swagger UI would otherwise send the schema to swagger.io's online validator for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    ).body.decode()
    # The page's one inline script starts Swagger UI; the policy allows exactly that script.
    policy = content_security_policy(*_inline_script_hashes(html))

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})
