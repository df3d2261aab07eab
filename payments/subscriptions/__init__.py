"""Subscription plans: price quotes, plan checkout, and the days a paid plan adds."""
