start =
    Hello, { $name }! This is { $shop }: zoo tickets and subscriptions.
    What would you like?
menu = Main menu. What would you like?
btn_tickets = 🎟 Tickets
btn_subscribe = ⭐ Subscription
btn_my = 🧾 My purchases
btn_help = ❓ Help
btn_menu = ⬅️ Menu
btn_shop = 🛍 Open the shop
menu_button_shop = Shop
help =
    What the bot does:
    /tickets — buy zoo tickets: date, time, quantity
    /subscribe — start or renew a subscription
    /my — your tickets and subscription
    /cancel — cancel the current purchase
    /help — this help

    Pay by card through YooKassa. Tickets arrive here as QR codes and by e-mail.
cmd_start = Main menu
cmd_tickets = Buy tickets
cmd_subscribe = Subscription
cmd_my = My tickets and subscription
cmd_help = Help
cmd_cancel = Cancel the purchase
error = Something went wrong. We are looking into it; please try again a bit later.
unknown = I don't understand that message. Send /help to see what the bot can do.
stale_button = This button is out of date. Open the menu again: /start
nothing_to_cancel = There is nothing to cancel.
sandbox_note = 🧪 Sandbox: no real money is charged.
my_empty = You have no tickets or subscription yet. Have a look at /tickets or /subscribe.
friend = friend
cmd_language = Language
btn_language = 🌐 Language
language_name = English
language_pick = Choose the bot's language:
language_set = Done: the bot now speaks English.
