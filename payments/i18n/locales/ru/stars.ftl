stars_amount = { $stars } ⭐
plan_button_stars = { $title } — { $stars } ⭐ в месяц
stars_invoice_label = 30 дней
stars_invoice_description = Подписка на 30 дней за { $stars } ⭐. Telegram продлевает её каждые 30 дней, пока вы не отключите автопродление в /my.
stars_pay_summary =
    { $plan }: { $stars } ⭐ за 30 дней.
    Оплата звёздами Telegram. Подписка продлевается каждые 30 дней, пока вы не отключите автопродление в /my.
btn_pay_stars = ⭐ Оплатить { $stars } ⭐
stars_refused_unknown = Этот счёт нам не знаком. Откройте /subscribe и выберите тариф заново.
stars_refused_changed = Сумма счёта изменилась. Откройте /subscribe и выберите тариф заново.
stars_refused_stale = Этот счёт устарел. Откройте /subscribe и выберите тариф заново — звёзды не списаны.
btn_stars_cancel = ✖️ Отключить автопродление (звёзды)
stars_renewal_canceled = Автопродление отключено: Telegram больше не будет списывать звёзды. Оплаченные дни остаются.
stars_renewal_none = Подписки со звёздами, которая продлевается, нет.
stars_renewal_cancel_failed = Telegram не отключил автопродление. Попробуйте ещё раз позже.
adm_stars_refunded = ✅ Возвращено { $stars } ⭐ за платёж { $payment_id }.
adm_stars_not_refundable = Платёж { $payment_id } в звёздах нельзя вернуть: он не оплачен или уже возвращён.
adm_stars_refund_failed = Telegram не вернул звёзды за платёж { $payment_id }: { $reason }
