// Subscription plans at this customer's prices (what /api/v2/payments/create will charge), with
// what the price is ("price for new customers"); bought through Telegram's MainButton. The
// "Автопродление" toggle (off by default) shows the terms before the pay button and sends the
// consent with the purchase; the subscription shows its auto-renewal and switches (renewal.js).

import { formatDay, formatMoney } from "./i18n.js";
import { returnUrl, watchPayment } from "./pay.js";
import { renewalCard, renewalToggle } from "./renewal.js";
import { errorView, h, replace } from "./ui.js";

export async function mount(root, app) {
  const { t, api } = app;
  const lang = t.lang;
  let stopWatching = null;
  let chosen = null;
  let catalog;
  let subscription;
  try {
    [catalog, { subscription }] = await Promise.all([api.get("/api/v2/app/catalog"), api.get("/api/v2/app/subscription")]);
  } catch (failure) {
    replace(root, errorView(t, failure, { retry: () => app.go("plans", {}, { push: false }) }));
    return () => {};
  }
  const problem = h("div", { class: "problem" });
  const toggle = renewalToggle(app, () => payButton());
  let said = null;

  function updated(next, text) {
    subscription = next;
    said = text;
    render();
  }

  function current() {
    if (!subscription || subscription.status !== "active") return h("p", { class: "hint subscription none", text: t("app-sub-none") });
    return h(
      "div",
      { class: "card subscription active" },
      h("div", { class: "ok", text: t("app-sub-active", { title: subscription.title, date: formatDay(lang, subscription.expiresAt.slice(0, 10), { day: "numeric", month: "long", year: "numeric" }) }) }),
      h("div", { class: "hint", text: t("app-sub-days-left", { days: subscription.daysLeft }) }),
      renewalCard(app, subscription, updated),
      said ? h("div", { class: "notice renew-said", role: "status", text: said }) : null,
    );
  }

  function render() {
    app.backButton.reset();
    const cards = catalog.plans.map((plan) =>
      h(
        "button",
        {
          class: "card plan",
          dataset: { plan: plan.code },
          "aria-pressed": chosen?.code === plan.code ? "true" : "false",
          onclick: () => choose(plan),
        },
        h("span", { class: "title", text: plan.title }),
        h("span", { class: "days hint", text: t("app-plan-days", { days: plan.days }) }),
        h(
          "span",
          { class: "price" },
          formatMoney(lang, plan.price),
          plan.basePrice !== plan.price ? h("span", { class: "base", text: formatMoney(lang, plan.basePrice) }) : null,
        ),
        h("span", { class: "label", text: plan.priceLabel }),
      ),
    );
    replace(
      root,
      h("h1", { text: t("app-plans-title") }),
      current(),
      catalog.plans.length ? h("p", { class: "hint", text: t("app-plan-pick") }) : h("p", { class: "hint", text: t("app-plans-none") }),
      cards,
      catalog.plans.length ? toggle.element : null,
      problem,
    );
    payButton();
  }

  /** The pay button: once a plan is chosen, and with auto-renewal on once its terms are shown. */
  function payButton() {
    if (chosen && !toggle.waiting) app.mainButton.show(t("app-pay", { amount: formatMoney(lang, chosen.price) }), pay);
    else app.mainButton.hide();
  }

  function choose(plan) {
    chosen = plan;
    said = null;
    toggle.update(plan);
    app.tg.HapticFeedback?.selectionChanged();
    replace(problem);
    render();
  }

  async function pay() {
    app.mainButton.busy(true);
    let created;
    try {
      created = await api.post("/api/v2/payments/create", { product: chosen.code, returnUrl: returnUrl(), ...toggle.consent() });
    } catch (failure) {
      app.mainButton.busy(false);
      replace(problem, errorView(t, failure));
      return;
    }
    app.mainButton.busy(false);
    app.backButton.show(back);
    stopWatching = watchPayment(root, app, {
      url: created.paymentUrl,
      paymentId: created.paymentId,
      kind: "plan",
      onRetry: back,
    });
  }

  async function back() {
    stopWatching?.();
    stopWatching = null;
    said = null;
    try {
      ({ subscription } = await api.get("/api/v2/app/subscription"));
    } catch {
      // Keep what we knew; the plans are still right.
    }
    render();
  }

  render();
  return () => stopWatching?.();
}
