"""The HTTP surface: FastAPI app, health, REST API of both seeds, YooKassa webhook."""
