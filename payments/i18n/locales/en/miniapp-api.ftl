# The Mini App's storefront API: what a plan's price is, next to the price.
app-api-price-test = Test price: a test user's payments
app-api-price-new = Price for new customers
app-api-price-returning = Welcome-back price for former subscribers
app-api-price-active = Renewal price for subscribers
app-api-price-regular = Price for regular customers
