# /stats: auto-renewal; /payment and /subscription: renewals and their attempts
adm_rn_stats_title = 🔁 Автопродление (без тестовых, за 30 дней):
adm_rn_stats_on = Подписок с автопродлением: { $count }
adm_rn_stats_due = Продлений в ближайшие 7 дней: { $count } на { $sum }
adm_rn_stats_rate = Успешных списаний: { $rate } ({ $paid } из { $settled })
adm_rn_stats_churn = Отток: вынужденный (не удалось списать) { $involuntary }, добровольный (отключили автопродление) { $voluntary }
adm_rn_renewal = Продление { $renewal } с { $start } на { $amount }: { $status }, { $attempts ->
        [one] { $attempts } попытка
        [few] { $attempts } попытки
       *[other] { $attempts } попыток
    }
adm_rn_next = Следующая попытка: { $at }
adm_rn_attempt = попытка { $number }
adm_rn_by_link = оплата по ссылке
adm_rn_no_attempts = • попыток ещё не было
adm_rn_status_scheduled = запланировано
adm_rn_status_charging = списывается
adm_rn_status_retry = ждёт повтора
adm_rn_status_succeeded = оплачено
adm_rn_status_failed = не удалось
adm_rn_status_stopped = остановлено
adm_rn_state_retrying = повторяем списание
adm_rn_state_lapsed = закончилась после отказов в списании
adm_sb_title = 👤 Подписка: { $name } ({ $user_id })
adm_sb_plan = Тариф: { $plan }
adm_sb_status = Статус: { $status }
adm_sb_period = Период: { $start } — { $end }
adm_sb_auto_on = Автопродление: включено, { $card }
adm_sb_auto_off = Автопродление: выключено
adm_sb_state = Продление: { $state }
adm_sb_grace = Доступ сохраняется до { $until }
adm_sb_periods = Периоды ({ $shown } из { $total }):
adm_sb_granted = выдал админ { $admin }
adm_sb_renewals = Продления:
adm_sb_btn_stop = ⏹ Отключить автопродление
adm_sb_stopped = Автопродление отключено.
adm_sb_already_off = Автопродление уже выключено.
adm_usage_subscription = Использование: /subscription <id или @username>, например /subscription 123456789 или /subscription @ivan
adm_no_no_subscription = У пользователя { $user_id } нет подписки.
adm_action_subscription = просмотр подписки
adm_action_stop_renewal = отключение автопродления
adm_result_stopped = отключено
adm_result_already_off = уже было выключено
