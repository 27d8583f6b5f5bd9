"""Version discovery and ``build_info``, as Heat answers them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kiln import __version__

router = APIRouter(tags=["info"])


@router.get("/", summary="API versions", status_code=300)
def versions(request: Request) -> dict[str, Any]:
    """Heat's version document: one version, v1.0, current.

    Heat answers it with 300 Multiple Choices (version negotiation), and clients that
    discover the API expect exactly that.
    """
    return {
        "versions": [
            {
                "id": "v1.0",
                "status": "CURRENT",
                "links": [{"rel": "self", "href": f"{str(request.base_url).rstrip('/')}/v1/"}],
            }
        ]
    }


@router.get("/v1/{project_id}/build_info", summary="Build information")
def build_info(project_id: str) -> dict[str, Any]:
    return {"api": {"revision": __version__}, "engine": {"revision": __version__}}
