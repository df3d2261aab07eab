// The shop: a day in the calendar → a time slot → ticket types with +/− and a running total →
// e-mail → Telegram's MainButton pays (POST /v1/payments/sessions, then the payment page).

import { Calendar } from "./calendar.js";
import { formatDay, formatMoney, fromMinor, toMinor } from "./i18n.js";
import { returnUrl, watchPayment } from "./pay.js";
import { errorView, h, loading, replace } from "./ui.js";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

export async function mount(root, app) {
  const { t, api } = app;
  const lang = t.lang;
  const state = { day: null, slot: null, quantities: {}, email: app.me.email || "" };
  let stopWatching = null;
  const catalogPromise = api.get("/api/v2/app/catalog");
  const calendar = new Calendar(app, (day) => {
    state.day = day;
    state.slot = null;
    renderSlots();
  });
  const slots = h("div", { class: "slots-block" });
  const page = h("div", { class: "step-calendar" }, h("h1", { text: t("app-shop-title") }), calendar.element, slots);

  function showCalendar() {
    stopWatching?.();
    stopWatching = null;
    app.mainButton.hide();
    app.backButton.reset();
    replace(root, page);
    calendar.render();
    renderSlots();
  }

  function renderSlots() {
    if (!state.day) {
      replace(slots, h("p", { class: "hint", text: t("app-pick-day-hint") }));
      return;
    }
    const day = calendar.day(state.day.date) ?? state.day;
    const open = day.slots.filter((slot) => slot.open);
    replace(
      slots,
      h("h2", { text: t("app-slots-title", { day: formatDay(lang, day.date) }) }),
      h(
        "div",
        { class: "slots", role: "group" },
        day.slots.map((slot) =>
          h(
            "button",
            {
              class: "slot",
              dataset: { time: slot.time },
              disabled: !slot.open,
              "aria-pressed": state.slot?.time === slot.time ? "true" : "false",
              onclick: () => pickSlot(slot),
            },
            h("span", { class: "time", text: slot.time }),
            h("span", {
              class: "free",
              text: slot.open ? t("app-slot-free", { free: slot.free }) : t(`app-slot-${(slot.reason || "closed").replace("_", "-")}`),
            }),
          ),
        ),
      ),
      open.length ? null : h("p", { class: "hint", text: t("app-no-slots") }),
    );
    slots.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
  }

  function pickSlot(slot) {
    state.slot = slot;
    app.tg.HapticFeedback?.selectionChanged();
    showTickets();
  }

  async function showTickets() {
    const catalog = await catalogPromise;
    app.backButton.show(showCalendar);
    const max = Math.min(catalog.maxTicketsPerOrder, state.slot.free);
    const count = () => Object.values(state.quantities).reduce((a, b) => a + b, 0);
    const totalMinor = () =>
      catalog.ticketTypes.reduce((sum, type) => sum + toMinor(type.price) * (state.quantities[type.code] || 0), 0);
    const outputs = {};
    const minus = {};
    const plus = {};
    const totalCount = h("span", { class: "count" });
    const totalMoney = h("span", { class: "money" });
    const limit = h("p", { class: "hint limit", hidden: true, text: t("app-max-tickets", { max }) });
    const problem = h("div", { class: "problem" });
    const emailError = h("p", { class: "field-error", hidden: true, text: t("app-email-bad") });
    const email = h("input", {
      type: "email",
      name: "email",
      autocomplete: "email",
      inputmode: "email",
      required: true,
      value: state.email,
      oninput: () => {
        state.email = email.value.trim();
        if (EMAIL.test(state.email)) emailError.hidden = true;
      },
    });

    const update = () => {
      const n = count();
      for (const type of catalog.ticketTypes) {
        const q = state.quantities[type.code] || 0;
        outputs[type.code].value = String(q);
        outputs[type.code].textContent = String(q);
        minus[type.code].disabled = q === 0;
        plus[type.code].disabled = n >= max;
      }
      limit.hidden = n < max;
      totalCount.textContent = t("app-tickets-count", { count: n });
      totalMoney.textContent = formatMoney(lang, catalog.testOrderTotal && n ? toMinor(catalog.testOrderTotal) : totalMinor());
      if (n > 0) app.mainButton.show(t("app-pay", { amount: totalMoney.textContent }), pay);
      else app.mainButton.hide();
    };
    const change = (code, by) => {
      const q = Math.max(0, (state.quantities[code] || 0) + by);
      if (by > 0 && count() >= max) return;
      state.quantities[code] = q;
      app.tg.HapticFeedback?.selectionChanged();
      replace(problem);
      update();
    };

    const lines = catalog.ticketTypes.map((type) => {
      outputs[type.code] = h("output", { "aria-live": "polite" });
      minus[type.code] = h("button", { class: "minus", "aria-label": t("app-fewer", { type: type.title }), onclick: () => change(type.code, -1), text: "−" });
      plus[type.code] = h("button", { class: "plus", "aria-label": t("app-more", { type: type.title }), onclick: () => change(type.code, 1), text: "+" });
      return h(
        "div",
        { class: "line", dataset: { type: type.code } },
        h("div", { class: "what" }, h("div", { class: "title", text: type.title }), h("div", { class: "price", text: t("app-price-each", { price: formatMoney(lang, type.price) }) })),
        h("div", { class: "stepper" }, minus[type.code], outputs[type.code], plus[type.code]),
      );
    });

    async function pay() {
      const n = count();
      if (n === 0) {
        replace(problem, h("p", { class: "field-error", text: t("app-pick-tickets") }));
        return;
      }
      if (!EMAIL.test(state.email)) {
        emailError.hidden = false;
        email.focus();
        return;
      }
      const items = catalog.ticketTypes
        .filter((type) => state.quantities[type.code] > 0)
        .map((type) => ({
          ticket_type: type.code,
          quantity: state.quantities[type.code],
          unit_price: { value: type.price, currency: catalog.currency },
          visit_date: state.day.date,
          visit_time: state.slot.time,
        }));
      const body = {
        order: { total_amount: { value: fromMinor(totalMinor()), currency: catalog.currency } },
        items,
        customer: { email: state.email },
        confirmation: { type: "redirect", return_url: returnUrl() },
      };
      app.mainButton.busy(true);
      replace(problem);
      let session;
      try {
        session = (await api.post("/v1/payments/sessions", body)).data;
      } catch (failure) {
        app.mainButton.busy(false);
        if (failure.errors?.some((e) => String(e.field).startsWith("customer.email"))) {
          emailError.hidden = false;
          email.focus();
          return;
        }
        replace(problem, errorView(t, failure, { what: { 409: "app-error-seats" } }));
        if (failure.status === 409) calendar.refresh(calendar.month).catch(() => {});
        problem.scrollIntoView?.({ block: "nearest" });
        return;
      }
      app.mainButton.busy(false);
      app.backButton.show(() => showTickets());
      stopWatching = watchPayment(root, app, {
        url: session.confirmation_url,
        paymentId: session.payment_id,
        kind: "tickets",
        onRetry: () => showTickets(),
      });
    }

    stopWatching?.();
    stopWatching = null;
    replace(
      root,
      h(
        "div",
        { class: "step-tickets" },
        h("h1", { text: t("app-tickets-title") }),
        h(
          "div",
          { class: "card visit" },
          h("div", { class: "when", text: t("app-visit", { day: formatDay(lang, state.day.date), time: state.slot.time }) }),
          h("button", { class: "secondary change", onclick: showCalendar, text: t("app-change-visit") }),
        ),
        h("div", { class: "card lines" }, lines),
        limit,
        h("div", { class: "total" }, h("span", {}, t("app-total"), " · ", totalCount), totalMoney),
        h("label", { class: "field" }, h("span", { text: t("app-email") }), email),
        emailError,
        problem,
      ),
    );
    update();
    window.scrollTo(0, 0);
  }

  replace(root, loading(t("app-loading")));
  const begin = async () => {
    try {
      await Promise.all([calendar.start(), catalogPromise]);
      showCalendar();
    } catch (failure) {
      replace(root, errorView(t, failure, { retry: () => app.go("shop", {}, { push: false }) }));
    }
  };
  await begin();
  return () => {
    stopWatching?.();
  };
}
