// Auto-renewal in the Mini App: the "Автопродление" toggle on the Plans screen (off by default;
// on, the terms for the chosen plan are shown before the pay button and the purchase carries
// the consent), and the subscription's auto-renewal with its switches: turn off, turn on again
// (after the terms are shown again), forget the card.

import { formatDay, formatMoney } from "./i18n.js";
import { errorView, h, replace } from "./ui.js";

const LONG_DAY = { day: "numeric", month: "long", year: "numeric" };

/** The terms box of a plan: fetched from the service, in the customer's language. */
async function termsBox(app, planCode, resume) {
  const query = `plan=${encodeURIComponent(planCode)}${resume ? "&resume=true" : ""}`;
  const terms = await app.api.get(`/api/v2/app/renewal-terms?${query}`);
  const box = h(
    "div",
    { class: "card renew-terms", role: "note", dataset: { version: terms.version } },
    h("div", { class: "title", text: app.t("app-renew-terms-title") }),
    h("p", { text: terms.text }),
  );
  return { terms, box };
}

/**
 * The toggle of the Plans screen. `onChange()` is called when the terms are ready (or gone), so
 * the screen can show the pay button only once the customer could read them.
 * Returns {element, update(plan), consent()}: consent() is null when off, else the body fields.
 */
export function renewalToggle(app, onChange) {
  const { t } = app;
  let plan = null;
  let terms = null;
  let asked = 0;
  const holder = h("div", { class: "renew-terms-holder" });
  const input = h("input", { type: "checkbox", id: "renew-toggle", class: "renew-toggle" });
  input.addEventListener("change", () => load());
  const element = h(
    "div",
    { class: "renew" },
    h(
      "label",
      { class: "renew-switch", for: "renew-toggle" },
      input,
      h("span", { class: "title", text: t("app-renew-toggle") }),
      h("span", { class: "hint", text: t("app-renew-toggle-hint") }),
    ),
    holder,
  );

  async function load() {
    const ticket = ++asked;
    terms = null;
    replace(holder);
    if (!input.checked || !plan) return onChange();
    onChange();
    try {
      const shown = await termsBox(app, plan.code, false);
      if (ticket !== asked) return;
      terms = shown.terms;
      replace(holder, shown.box);
    } catch (failure) {
      if (ticket !== asked) return;
      replace(holder, errorView(t, failure, { retry: load }));
    }
    onChange();
  }

  return {
    element,
    update(next) {
      if (next?.code === plan?.code) return;
      plan = next;
      load();
    },
    /** True while the customer cannot pay yet: the toggle is on and the terms not shown. */
    get waiting() {
      return input.checked && !terms;
    },
    consent() {
      return input.checked && terms ? { autoRenew: true, termsVersion: terms.version } : null;
    },
  };
}

/** The subscription's auto-renewal: state, card, the next charge, and the switches. */
export function renewalCard(app, subscription, onUpdate) {
  const { t, api } = app;
  const lang = t.lang;
  const renew = subscription.autoRenew;
  const root = h("div", { class: "renew-state", dataset: { on: renew.on ? "true" : "false" } });
  const notice = h("div", { class: "renew-notice", role: "status" });
  const extra = h("div", { class: "renew-extra" });

  async function act(request, text) {
    try {
      const answer = await request();
      onUpdate({ ...subscription, autoRenew: answer.autoRenew }, t(text));
    } catch (failure) {
      replace(notice, errorView(t, failure));
    }
  }

  async function showTerms() {
    try {
      const { terms, box } = await termsBox(app, subscription.planCode, true);
      const agree = h("button", {
        class: "renew-agree",
        text: t("app-renew-confirm-on"),
        onclick: () =>
          act(
            () => api.post("/api/v2/app/subscription/auto-renew", { on: true, termsVersion: terms.version }),
            "app-renew-turned-on",
          ),
      });
      replace(extra, box, agree);
    } catch (failure) {
      replace(extra, errorView(t, failure));
    }
  }

  const status = renew.on
    ? renew.card
      ? t("app-renew-on", { card: renew.card })
      : t("app-renew-on-no-card")
    : renew.card
      ? t("app-renew-off-card", { card: renew.card })
      : t("app-renew-off");
  const buttons = [];
  if (renew.on) {
    buttons.push(
      h("button", {
        class: "secondary renew-off",
        text: t("app-renew-turn-off"),
        onclick: () => act(() => api.post("/api/v2/app/subscription/auto-renew", { on: false }), "app-renew-turned-off"),
      }),
    );
  } else if (renew.card && subscription.status === "active") {
    buttons.push(h("button", { class: "secondary renew-on", text: t("app-renew-turn-on"), onclick: showTerms }));
  }
  if (renew.card) {
    buttons.push(
      h("button", {
        class: "secondary renew-forget",
        text: t("app-renew-forget"),
        onclick: () => act(() => api.delete("/api/v2/app/subscription/card"), "app-renew-forgotten"),
      }),
    );
  }
  replace(
    root,
    h("div", { class: "renew-status", text: status }),
    renew.on && renew.nextChargeAt
      ? h("div", {
          class: "hint renew-next",
          text: t("app-renew-next", {
            amount: formatMoney(lang, renew.nextChargeAmount),
            date: formatDay(lang, renew.nextChargeAt.slice(0, 10), LONG_DAY),
          }),
        })
      : null,
    renew.state === "retrying" ? h("div", { class: "hint renew-retrying", text: t("app-renew-retrying") }) : null,
    buttons.length ? h("div", { class: "actions" }, buttons) : null,
    extra,
    notice,
  );
  return root;
}
