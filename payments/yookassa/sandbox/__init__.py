"""The embedded YooKassa sandbox: API emulation, checkout page, notification delivery."""
