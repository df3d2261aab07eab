"""The runtime around aiogram: factory, middlewares, keyboards, texts, notifier."""
