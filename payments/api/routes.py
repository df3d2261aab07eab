"""Mount the REST API of both seeds on the app."""

from __future__ import annotations

from fastapi import FastAPI

from payments.api import burlive, zooticket
from payments.api.context import ApiContext


def setup(app: FastAPI, api: ApiContext) -> None:
    """Keep the API's services on the app and add the /v1 and /api/v2 routes."""
    app.state.api = api
    zooticket.setup(app)
    burlive.setup(app)
