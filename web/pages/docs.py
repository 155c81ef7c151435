"""The API docs (接口文档) with Swagger UI and ReDoc served from the vendored assets, so `/docs`
and `/redoc` render without internet (FastAPI's defaults load them from a CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from web.assets import asset_path

router = APIRouter(include_in_schema=False)
STATIC = "/web/static/"
# Nothing but this server: ReDoc would otherwise fetch its logo from cdn.redoc.ly. Swagger UI's
# page starts it with an inline script; both use inline styles and ReDoc a blob: worker.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


def _offline(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return _offline(
        get_swagger_ui_html(
            openapi_url=request.app.openapi_url,
            title=request.app.title + " — 接口文档",
            swagger_js_url=STATIC + asset_path("swagger-ui-dist", "swagger-ui-bundle.js"),
            swagger_css_url=STATIC + asset_path("swagger-ui-dist", "swagger-ui.css"),
            swagger_favicon_url=STATIC + asset_path("swagger-ui-dist", "favicon-32x32.png"),
        )
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return _offline(
        get_redoc_html(
            openapi_url=request.app.openapi_url,
            title=request.app.title + " — ReDoc",
            redoc_js_url=STATIC + asset_path("redoc", "redoc.standalone.js"),
            redoc_favicon_url=STATIC + asset_path("swagger-ui-dist", "favicon-32x32.png"),
            with_google_fonts=False,
        )
    )
