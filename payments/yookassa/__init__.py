"""YooKassa: the gateway over the official SDK, the webhook it notifies, and the sandbox."""
