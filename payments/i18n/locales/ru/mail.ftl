# The ticket e-mail: payments/tickets/issuing.py.
mail_tickets_subject = { $shop }: билеты, заказ { $order_id }
mail_tickets_body =
    Заказ { $order_id }. { $count ->
        [one] Ваш билет — во вложении: покажите QR-код на входе.
       *[other] Ваши билеты ({ $count }) — во вложении: покажите QR-коды на входе.
    }

    { $lines }

    { $shop }
mail_ticket_line = { $title }, { $date } { $time }: { $code }
