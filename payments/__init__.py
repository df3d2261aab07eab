"""Money: catalog, pricing, checkout, fulfilment, the YooKassa gateway, webhook and REST API."""
