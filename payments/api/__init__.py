"""The HTTP surface: FastAPI app, health, REST API of both seeds, YooKassa webhook."""

from payments.api.pydantic_v1 import spare_pydantic_v1

spare_pydantic_v1()  # before any of our routers is built (at their import)
