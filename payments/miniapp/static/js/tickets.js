// "My tickets": each coming ticket's QR code (fetched with the bearer token, shown from a blob:
// URL) big enough to scan at the gate, with its date, time and type; past, used and refunded
// tickets apart; unpaid orders with Pay and Cancel.

import { formatDay, formatMoment, formatMoney } from "./i18n.js";
import { watchPayment } from "./pay.js";
import { errorView, h, loading, replace } from "./ui.js";

const LONG_DAY = { weekday: "long", day: "numeric", month: "long" };

export async function mount(root, app) {
  const { t, api, tg } = app;
  const lang = t.lang;
  const blobs = [];
  let stopWatching = null;
  let alive = true;

  const release = () => {
    for (const url of blobs.splice(0)) URL.revokeObjectURL(url);
  };

  async function qr(ticket, image, fallback) {
    try {
      const blob = await api.blob(ticket.qrUrl);
      if (!alive) return;
      const url = URL.createObjectURL(blob);
      blobs.push(url);
      image.src = url;
    } catch (failure) {
      console.warn(failure);
      image.hidden = true;
      fallback.hidden = false;
    }
  }

  function ticketCard(ticket) {
    const when = t("app-visit", { day: formatDay(lang, ticket.visitDate, LONG_DAY), time: ticket.visitTime });
    if (ticket.state === "upcoming") {
      const image = h("img", {
        class: "qr",
        alt: t("app-ticket-qr-alt", { code: ticket.code }),
        width: "320",
        height: "320",
        dataset: { code: ticket.code },
      });
      const fallback = h("p", { class: "field-error", hidden: true, text: t("app-qr-failed") });
      qr(ticket, image, fallback);
      return h(
        "article",
        { class: "card ticket upcoming", dataset: { code: ticket.code } },
        h("div", { class: "when", text: when }),
        h("div", { class: "type", text: ticket.title }),
        image,
        fallback,
        h("div", { class: "code", text: ticket.code }),
        h("div", { class: "hint", text: t("app-ticket-show") }),
      );
    }
    const status =
      ticket.state === "used"
        ? t("app-ticket-used", { at: ticket.checkedInAt ? formatMoment(lang, ticket.checkedInAt) : "" })
        : ticket.state === "refunded"
          ? t("app-ticket-refunded")
          : t("app-ticket-past");
    return h(
      "article",
      { class: `card ticket ${ticket.state}`, dataset: { code: ticket.code } },
      h("div", { class: "when", text: when }),
      h("div", { class: "type", text: ticket.title }),
      h("div", { class: "code", text: ticket.code }),
      h("div", { class: "hint state", text: status }),
    );
  }

  function orderCard(order) {
    const lines = order.items.map((item) => h("div", { text: t("app-order-line", { title: item.title, quantity: item.quantity }) }));
    return h(
      "article",
      { class: "card order", dataset: { order: order.orderId } },
      h("h3", { text: t("app-order-title", { order: order.orderId }) }),
      h("div", { class: "when", text: t("app-visit", { day: formatDay(lang, order.visitDate, LONG_DAY), time: order.visitTime }) }),
      lines,
      h("div", { class: "total" }, h("span", { text: t("app-total") }), h("span", { text: formatMoney(lang, order.total) })),
      order.expiresAt ? h("div", { class: "hint", text: t("app-order-until", { time: formatMoment(lang, order.expiresAt) }) }) : null,
      h(
        "div",
        { class: "order-actions" },
        order.paymentUrl && order.paymentId
          ? h("button", { class: "primary pay", onclick: () => payOrder(order), text: t("app-order-pay") })
          : null,
        order.canCancel ? h("button", { class: "danger cancel", onclick: () => cancelOrder(order), text: t("app-order-cancel") }) : null,
      ),
    );
  }

  function payOrder(order) {
    app.backButton.show(() => show());
    stopWatching = watchPayment(root, app, {
      url: order.paymentUrl,
      paymentId: order.paymentId,
      kind: "tickets",
      onRetry: () => show(),
    });
  }

  function cancelOrder(order) {
    const go = async (yes) => {
      if (!yes) return;
      try {
        await api.post(`/api/v2/app/orders/${encodeURIComponent(order.orderId)}/cancel`, {});
        await show(t("app-order-canceled"));
      } catch (failure) {
        await show(null, failure);
      }
    };
    if (tg.showConfirm) tg.showConfirm(t("app-order-cancel-confirm"), go);
    else go(window.confirm(t("app-order-cancel-confirm")));
  }

  async function show(notice = null, problem = null) {
    stopWatching?.();
    stopWatching = null;
    app.mainButton.hide();
    app.backButton.reset();
    replace(root, loading(t("app-loading")));
    let tickets;
    let orders;
    try {
      [{ tickets }, { orders }] = await Promise.all([api.get("/api/v2/app/tickets"), api.get("/api/v2/app/orders")]);
    } catch (failure) {
      replace(root, errorView(t, failure, { retry: () => show() }));
      return;
    }
    if (!alive) return;
    release();
    const unpaid = orders.filter((order) => order.status === "pending" && (order.paymentUrl || order.canCancel));
    const coming = tickets
      .filter((ticket) => ticket.state === "upcoming")
      .sort((a, b) => (a.visitDate + a.visitTime).localeCompare(b.visitDate + b.visitTime));
    const rest = tickets
      .filter((ticket) => ticket.state !== "upcoming")
      .sort((a, b) => (b.visitDate + b.visitTime).localeCompare(a.visitDate + a.visitTime));
    replace(
      root,
      h("h1", { text: t("app-nav-tickets") }),
      notice ? h("p", { class: "card ok notice", role: "status", text: notice }) : null,
      problem ? errorView(t, problem, { retry: () => show() }) : null,
      unpaid.length ? h("section", { class: "unpaid" }, h("h2", { text: t("app-orders-unpaid") }), unpaid.map(orderCard)) : null,
      h(
        "section",
        { class: "upcoming" },
        h("h2", { text: t("app-tickets-upcoming") }),
        coming.length
          ? coming.map(ticketCard)
          : h("div", { class: "empty" }, h("p", { class: "hint", text: t("app-tickets-none") }), h("button", { class: "secondary", onclick: () => app.go("shop"), text: t("app-nav-shop") })),
      ),
      rest.length
        ? h("details", { class: "past" }, h("summary", { text: `${t("app-tickets-past")} (${rest.length})` }), rest.map(ticketCard))
        : null,
    );
  }

  await show();
  return () => {
    alive = false;
    stopWatching?.();
    release();
  };
}
