// Paying from the Mini App: open the payment page with Telegram's openLink, then watch the
// payment with /api/v2/payments/status until it is paid or canceled, and say which.
// Used by the shop (tickets), the plans and the unpaid orders of "My tickets".

import { errorView, h, replace } from "./ui.js";

const FIRST_POLLS_MS = 1500;
const LATER_POLLS_MS = 5000;
const FAST_FOR_MS = 60_000;
const GIVE_UP_AFTER_MS = 30 * 60_000;

/** Where a payment page sends the payer back: the Mini App (outside Telegram it says so). */
export function returnUrl() {
  return `${location.origin}/app/`;
}

/**
 * Show "finish the payment" and poll the payment's status until it ends.
 * `kind`: "tickets" | "plan". `onRetry()`: try again after a decline. `onDone(status)`: after
 * success (the caller may refresh). Returns a function that stops polling.
 */
export function watchPayment(root, app, { url, paymentId, kind, onRetry }) {
  const { t, tg, api } = app;
  let timer = null;
  let stopped = false;
  let inFlight = false;
  const started = Date.now();
  const status = h("p", { class: "hint", role: "status" });
  const problem = h("div");

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
    tg.offEvent?.("activated", onVisible);
  };

  const schedule = () => {
    if (stopped) return;
    const elapsed = Date.now() - started;
    if (elapsed > GIVE_UP_AFTER_MS) return; // "Check now" still works
    timer = setTimeout(check, elapsed < FAST_FOR_MS ? FIRST_POLLS_MS : LATER_POLLS_MS);
  };

  async function check() {
    if (stopped || inFlight) return;
    clearTimeout(timer);
    inFlight = true;
    try {
      const answer = await api.get(`/api/v2/payments/status?paymentId=${encodeURIComponent(paymentId)}`);
      replace(problem);
      if (stopped) return;
      if (answer.status === "succeeded") return finished(true);
      if (answer.status === "canceled") return finished(false);
      status.textContent = answer.paid ? t("app-paid-confirming") : "";
    } catch (failure) {
      if (stopped) return;
      if (failure.status === 404 || failure.status === 401) {
        stop();
        replace(problem, errorView(t, failure));
        return;
      }
      replace(problem, errorView(t, failure)); // and keep trying
    } finally {
      inFlight = false;
    }
    schedule();
  }

  function onVisible() {
    if (document.visibilityState !== "hidden") check();
  }

  function finished(paid) {
    stop();
    app.mainButton.hide();
    if (paid) app.backButton.reset(); // nothing to go back to: the order is done
    tg.HapticFeedback?.notificationOccurred(paid ? "success" : "error");
    if (paid) {
      const text = kind === "plan" ? t("app-paid-plan") : t("app-paid-tickets");
      replace(
        root,
        h(
          "div",
          { class: "result paid", role: "status" },
          h("div", { class: "big ok", "aria-hidden": "true", text: "✓" }),
          h("h1", { text: t("app-paid-title") }),
          h("p", { text }),
        ),
        kind === "plan"
          ? h("div", { class: "actions" }, h("button", { class: "secondary", onclick: () => app.go("plans"), text: t("app-nav-plans") }))
          : h("div", { class: "actions" }, h("button", { class: "secondary", onclick: () => app.go("shop"), text: t("app-buy-more") })),
      );
      if (kind !== "plan") app.mainButton.show(t("app-show-tickets"), () => app.go("tickets"));
    } else {
      replace(
        root,
        h(
          "div",
          { class: "result canceled", role: "alert" },
          h("div", { class: "big bad", "aria-hidden": "true", text: "✕" }),
          h("h1", { text: t("app-canceled-title") }),
          h("p", { text: t("app-canceled-text") }),
        ),
      );
      if (onRetry) app.mainButton.show(t("app-try-again"), onRetry);
    }
  }

  replace(
    root,
    h(
      "div",
      { class: "waiting" },
      h("h1", { text: t("app-wait-title") }),
      h("p", { text: t("app-wait-text") }),
      h("div", { class: "loading" }, h("span", { class: "spinner" }), status),
      problem,
      h(
        "div",
        { class: "actions" },
        h("button", { class: "secondary open-payment", onclick: () => tg.openLink(url), text: t("app-open-payment") }),
        h("button", { class: "secondary check-now", onclick: () => check(), text: t("app-check-now") }),
      ),
    ),
  );
  app.mainButton.hide();
  document.addEventListener("visibilitychange", onVisible);
  tg.onEvent?.("activated", onVisible);
  tg.openLink(url);
  schedule();
  return stop;
}
