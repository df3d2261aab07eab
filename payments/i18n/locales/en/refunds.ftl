refund_tickets_full = 💸 Order { $order_id }: a refund of { $amount } is on its way. The tickets are canceled. The money returns to your card, usually within a few days.
refund_tickets_partial = 💸 Order { $order_id }: a refund of { $amount } is on its way. Your tickets stay valid. The money returns to your card, usually within a few days.
refund_subscription = 💸 A refund of { $amount } for your subscription is on its way. It now runs until { $date }.
refund_subscription_ended = 💸 A refund of { $amount } for your subscription is on its way. The subscription has ended.
refund_plain = 💸 A refund of { $amount } is on its way. The money returns to your card, usually within a few days.
