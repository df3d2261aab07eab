"""Start a payment: the two-transaction flow shared by tickets and plans, and its errors."""
