# The ticket e-mail: payments/tickets/issuing.py.
mail_tickets_subject = { $shop }: tickets, order { $order_id }
mail_tickets_body =
    Order { $order_id }. { $count ->
        [one] Your ticket is attached: show its QR code at the gate.
       *[other] Your { $count } tickets are attached: show their QR codes at the gate.
    }

    { $lines }

    { $shop }
mail_ticket_line = { $title }, { $date } { $time }: { $code }
