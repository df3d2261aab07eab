"""The outbox: customer messages written with the change behind them, sent by one lane.

`store` writes rows in the caller's transaction, `lane` delivers them within Telegram's budget
(`budget`: one per instance, shared with the bot's direct answers), `rows` is its SQL,
`outcomes` is what a deliverer answers, `notes` turns the payments/ notes into payloads and back.
"""
