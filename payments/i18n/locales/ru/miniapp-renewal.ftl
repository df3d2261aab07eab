# Автопродление в Mini App (payments/miniapp/static/js/renewal.js) и условия, которые показывает
# сервер (renew-terms, версия TERMS_VERSION в payments/subscriptions/terms.py).

renew-terms = Автопродление «{ $plan }»: { $amount } каждые { $days ->
    [one] { $days } день
    [few] { $days } дня
   *[other] { $days } дней
}. Следующее списание — { $date }, с карты, которой вы платите; за 3 дня до него пришлём напоминание. Отключить можно в любой момент в разделе «Подписка» или командой /my в боте — оплаченные дни останутся.

app-renew-toggle = Автопродление
app-renew-toggle-hint = Продлевать подписку автоматически с этой карты
app-renew-terms-title = Условия автопродления
app-renew-on = Автопродление включено, { $card }
app-renew-on-no-card = Автопродление включено
app-renew-off = Автопродление выключено
app-renew-off-card = Автопродление выключено. Сохранена { $card }
app-renew-next = Следующее списание: { $amount }, { $date }
app-renew-retrying = Последнее списание не прошло; попробуем снова. Можно оплатить вручную в боте.
app-renew-turn-off = Отключить автопродление
app-renew-turn-on = Включить автопродление
app-renew-confirm-on = Включить с этими условиями
app-renew-forget = Забыть карту
app-renew-forgotten = Карта удалена. Автопродление выключено.
app-renew-turned-off = Автопродление отключено. Оплаченные дни остаются.
app-renew-turned-on = Автопродление включено.
