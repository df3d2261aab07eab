# The Mini App's storefront API: what a plan's price is, next to the price.
app-api-price-test = Тестовая цена: платежи тестового пользователя
app-api-price-new = Цена для новых клиентов
app-api-price-returning = Цена для вернувшихся подписчиков
app-api-price-active = Цена продления для подписчиков
app-api-price-regular = Цена для постоянных клиентов
