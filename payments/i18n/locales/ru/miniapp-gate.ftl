# Экран «Проверка билетов» Mini App для сотрудников (payments/miniapp/static/js/scanner.js).
gate-title = Проверка билетов
gate-scan = Сканировать билет
gate-scan-hint = Наведите камеру на QR-код билета
gate-scan-next = Следующий билет
gate-done = Готово
gate-manual-label = Код с повреждённого билета
gate-manual-check = Проверить
gate-device-label = Название этого устройства
gate-device-placeholder = например, Вход 2
gate-online = В сети
gate-sending =
    Отправляем { $count ->
        [one] { $count } проход
        [few] { $count } прохода
       *[many] { $count } проходов
    } без связи…
gate-offline =
    Нет связи · в очереди { $count ->
        [one] { $count } проход
        [few] { $count } прохода
       *[many] { $count } проходов
    }
gate-offline-note = Проверен без связи, по подписи
gate-offline-unknown = Нет связи
gate-offline-unknown-detail = Без связи проверяется только подписанный QR-код. Отсканируйте QR-код билета или повторите позже.
gate-admit =
    Впустить: { $count ->
        [one] { $count } человек
        [few] { $count } человека
       *[many] { $count } человек
    }
gate-admit-detail = { $ticket }, { $time }
gate-used = Уже использован
gate-used-detail = в { $time }
gate-used-detail-device = в { $time }, { $device }
gate-other-day = Билет на { $date }
gate-test = Тестовый билет
gate-test-detail = Куплен в тестовом режиме: по нему не пускают.
gate-forged = Поддельный билет
gate-forged-detail = Подпись не совпадает с ключом зоопарка. Не впускать.
gate-not-ticket = Это не билет зоопарка
gate-not-staff = Проверять билеты могут только сотрудники на входе.
gate-reason-used = Уже использован
gate-reason-refunded = Возвращён
gate-reason-other_day = Билет на другой день
gate-reason-test = Тестовый билет
gate-reason-not_found = Такого билета нет
gate-reason-forged = Поддельный билет
gate-reason-error = Не удалось проверить билет
gate-twice-title =
    После восстановления связи: { $count ->
        [one] { $count } билет требует внимания
        [few] { $count } билета требуют внимания
       *[many] { $count } билетов требуют внимания
    }
gate-twice-item = { $code } ({ $ticket }) пропущен дважды, пока не было связи; первый раз { $first }.
gate-refused-item = { $code } ({ $ticket }) пропущен без связи, но сервер ответил: { $reason }.
gate-dismiss = Понятно
