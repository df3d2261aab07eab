// The staff "Scan tickets" screen: Telegram's native QR scanner → the ticket's signature checked
// here (WebCrypto Ed25519) → the gate API → a full-screen green or red answer with haptics.
// When the gate API cannot be reached the answer comes from the signature, today's cached used
// and refunded codes and this device's own queue; the queue is sent (POST /gate/sync) when the
// network is back, and any ticket the server says was let in twice is shown as a warning.

import { GateStore } from "./gate-store.js";
import { importGateKey, parseTicketQr, verifySigned } from "./gate-qr.js";

const GATE = "/api/v2/app/gate";
const REQUEST_PATIENCE_MS = 2500; // then answer offline; a late answer still reconciles
const RETRY_MS = 5000; // while check-ins wait to be sent
const REFRESH_MS = 5 * 60 * 1000;
const SYNC_BATCH = 200;
const UNREACHABLE = new Set([0, 502, 503, 504]);

class Timeout extends Error {}

/** Whether an API error means the server was not reached (as opposed to a refusal). */
function unreachable(error) {
  if (error instanceof Timeout) return true;
  const status = error && typeof error.status === "number" ? error.status : 0;
  return UNREACHABLE.has(status);
}

function within(promise, ms) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Timeout("timeout")), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Load the screen's stylesheet once (the shell's index.html need not know about it). */
function useStylesheet() {
  if (document.querySelector("link[data-gate-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("../css/scanner.css", import.meta.url).href;
  link.dataset.gateCss = "";
  document.head.append(link);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Mount the scanner into `root`; return a function that unmounts it. */
export function mountScanner(root, app) {
  const { api, t, tg } = app;
  const lang = (app.me && app.me.language) || "ru";
  const store = new GateStore();
  const state = { key: null, keyFor: null, reachable: true, busy: false, syncing: false };
  const titles = {};
  const timers = [];
  let alive = true;
  useStylesheet();

  // ---------- the screen ----------
  const screen = el("section", "gate");
  const title = el("h1", "gate-title", t("gate-title"));
  const status = el("p", "gate-status");
  status.setAttribute("role", "status");
  const warnings = el("div", "gate-warnings");
  warnings.hidden = true;
  const scanButton = el("button", "gate-scan", t("gate-scan"));
  scanButton.type = "button";

  const manual = el("form", "gate-manual");
  const manualLabel = el("label", "gate-label", t("gate-manual-label"));
  const manualInput = el("input", "gate-input");
  manualInput.name = "code";
  manualInput.autocomplete = "off";
  manualInput.autocapitalize = "characters";
  manualInput.spellcheck = false;
  manualInput.placeholder = "ZT-7K3M-9QXD-2FAB";
  manualInput.id = "gate-manual-code";
  manualLabel.htmlFor = manualInput.id;
  const manualButton = el("button", "gate-check", t("gate-manual-check"));
  manualButton.type = "submit";
  const manualRow = el("div", "gate-row");
  manualRow.append(manualInput, manualButton);
  manual.append(manualLabel, manualRow);

  const deviceLabel = el("label", "gate-label", t("gate-device-label"));
  const deviceInput = el("input", "gate-input");
  deviceInput.id = "gate-device";
  deviceInput.maxLength = 64;
  deviceInput.placeholder = t("gate-device-placeholder");
  deviceInput.value = store.device();
  deviceLabel.htmlFor = deviceInput.id;
  const deviceBlock = el("div", "gate-device");
  deviceBlock.append(deviceLabel, deviceInput);

  const result = el("div", "gate-result");
  result.hidden = true;
  result.setAttribute("role", "alert");
  const mark = el("div", "gate-result-mark");
  const headline = el("h2", "gate-result-headline");
  const detail = el("p", "gate-result-detail");
  const codeLine = el("p", "gate-result-code");
  const note = el("p", "gate-result-note");
  const nextButton = el("button", "gate-result-next", t("gate-scan-next"));
  nextButton.type = "button";
  const doneButton = el("button", "gate-result-done", t("gate-done"));
  doneButton.type = "button";
  const resultButtons = el("div", "gate-result-buttons");
  resultButtons.append(nextButton, doneButton);
  result.append(mark, headline, detail, codeLine, note, resultButtons);

  screen.append(title, status, warnings, scanButton, manual, deviceBlock, result);
  root.replaceChildren(screen);
  app.mainButton?.hide();

  // ---------- formatting ----------
  const info = () => store.info();
  const timezone = () => (info() && info().timezone) || undefined;
  function formatDay(isoDate) {
    const [y, m, d] = isoDate.split("-").map(Number);
    const today = store.today() || isoDate;
    const options = { day: "numeric", month: "long", timeZone: "UTC" };
    if (String(y) !== today.slice(0, 4)) options.year = "numeric";
    return new Intl.DateTimeFormat(lang, options).format(new Date(Date.UTC(y, m - 1, d)));
  }
  function formatTime(instant) {
    const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: timezone() };
    return new Intl.DateTimeFormat(lang, options).format(new Date(instant));
  }
  const titleOf = (type, fallback) => fallback || titles[type] || type;
  function usedDetail(at, device) {
    const time = at ? formatTime(at) : "—";
    return device ? t("gate-used-detail-device", { time, device }) : t("gate-used-detail", { time });
  }

  function showStatus() {
    const queued = store.queue().length;
    status.classList.toggle("gate-status-offline", !state.reachable);
    if (!state.reachable) status.textContent = t("gate-offline", { count: queued });
    else if (queued) status.textContent = t("gate-sending", { count: queued });
    else status.textContent = t("gate-online");
  }

  function showWarnings() {
    const items = store.warnings();
    warnings.hidden = items.length === 0;
    if (!items.length) return warnings.replaceChildren();
    const head = el("h2", "gate-warnings-title", t("gate-twice-title", { count: items.length }));
    const list = el("ul", "gate-warnings-list");
    for (const item of items) {
      const ticket = item.ticket ? `${titleOf(item.ticket.ticketType, item.ticket.title)}, ${item.ticket.visitTime}` : "";
      const line = item.twice
        ? t("gate-twice-item", { code: item.code, ticket, first: usedDetail(item.usedAt, item.usedDevice) })
        : t("gate-refused-item", { code: item.code, ticket, reason: t(`gate-reason-${item.reason || "error"}`) });
      list.append(el("li", "gate-warning", line));
    }
    const dismiss = el("button", "gate-warnings-dismiss", t("gate-dismiss"));
    dismiss.type = "button";
    dismiss.addEventListener("click", () => {
      store.clearWarnings();
      showWarnings();
    });
    warnings.replaceChildren(head, list, dismiss);
  }

  /** Show an answer full screen: {ok, headline, detail?, code?, note?}. */
  function show(answer, startedAt) {
    if (!alive) return;
    result.classList.toggle("gate-result-ok", answer.ok);
    result.classList.toggle("gate-result-bad", !answer.ok);
    result.dataset.outcome = answer.outcome;
    mark.textContent = answer.ok ? "✓" : "✕";
    headline.textContent = answer.headline;
    detail.textContent = answer.detail || "";
    codeLine.textContent = answer.code || "";
    note.textContent = answer.note || "";
    result.dataset.ms = String(Math.round(performance.now() - startedAt));
    result.hidden = false;
    tg?.HapticFeedback?.notificationOccurred(answer.ok ? "success" : "error");
    showStatus();
    nextButton.focus();
  }

  // ---------- the answers ----------
  const forged = (code) => ({ ok: false, outcome: "forged", headline: t("gate-forged"), detail: t("gate-forged-detail"), code });
  const otherDay = (code, date, time) => ({ ok: false, outcome: "other_day", headline: t("gate-other-day", { date: formatDay(date) }), detail: time, code });
  const testTicket = (code) => ({ ok: false, outcome: "test", headline: t("gate-test"), detail: t("gate-test-detail"), code });

  function fromServer(body, fallbackCode) {
    const ticket = body.ticket;
    const code = ticket ? ticket.code : fallbackCode;
    if (body.admitted) {
      return {
        ok: true,
        outcome: "admitted",
        headline: t("gate-admit", { count: 1 }),
        detail: t("gate-admit-detail", { ticket: titleOf(ticket.ticketType, ticket.title), time: ticket.visitTime }),
        code,
      };
    }
    switch (body.reason) {
      case "used":
        return { ok: false, outcome: "used", headline: t("gate-used"), detail: usedDetail(body.usedAt, body.usedDevice), code };
      case "other_day":
        return otherDay(code, ticket.visitDate, ticket.visitTime);
      case "test":
        return testTicket(code);
      case "forged":
        return forged(code);
      default:
        return { ok: false, outcome: body.reason || "error", headline: t(`gate-reason-${body.reason || "error"}`), code };
    }
  }

  /** Answer without the server: the signature was good, the day is today. */
  function offline(parsed, text, device) {
    const today = store.today();
    const code = parsed.code;
    if (store.refundedToday(code, today)) {
      return { ok: false, outcome: "refunded", headline: t("gate-reason-refunded"), code, note: t("gate-offline-note") };
    }
    const used = store.usedToday(code, today);
    if (used) {
      return { ok: false, outcome: "used", headline: t("gate-used"), detail: usedDetail(used.at, used.device), code, note: t("gate-offline-note") };
    }
    const scannedAt = new Date().toISOString();
    store.enqueue({ qr: text, device, scannedAt, code });
    store.markUsed(code, today, { at: scannedAt, by: null, device, queued: true });
    return {
      ok: true,
      outcome: "admitted_offline",
      headline: t("gate-admit", { count: 1 }),
      detail: t("gate-admit-detail", { ticket: titleOf(parsed.ticketType), time: parsed.time }),
      code,
      note: t("gate-offline-note"),
    };
  }

  async function verifier() {
    const current = info();
    if (!current) return null;
    if (state.keyFor !== current.publicKey) {
      state.key = await importGateKey(current.publicKey);
      state.keyFor = current.publicKey;
    }
    return state.key;
  }

  function deviceName() {
    const name = deviceInput.value.trim().slice(0, 64);
    return name || null;
  }

  /** Check one scanned or typed text in and show the answer. */
  async function check(text, typed) {
    const startedAt = performance.now();
    const device = deviceName();
    const parsed = parseTicketQr(text);
    if (parsed.kind === "malformed") return show(forged(null), startedAt);
    if (parsed.kind === "other" && !typed) {
      return show({ ok: false, outcome: "not_ticket", headline: t("gate-not-ticket") }, startedAt);
    }
    if (parsed.kind === "signed") {
      const key = await verifier();
      if (key && !(await verifySigned(key, parsed))) return show(forged(parsed.code), startedAt);
      const today = store.today();
      if (key && parsed.date !== today) return show(otherDay(parsed.code, parsed.date, parsed.time), startedAt);
      if (key && parsed.test) return show(testTicket(parsed.code), startedAt);
      // Without a key (never online, or no Ed25519 here) only the server can judge the QR.
    }
    const request = api.post(`${GATE}/checkin`, device ? { qr: text.trim(), device } : { qr: text.trim() });
    try {
      const body = await within(request, REQUEST_PATIENCE_MS);
      state.reachable = true;
      if (body.admitted && body.ticket) {
        store.markUsed(body.ticket.code, store.today(), { at: body.usedAt || new Date().toISOString(), by: null, device });
      }
      show(fromServer(body, parsed.code), startedAt);
      if (store.queue().length) sync();
    } catch (error) {
      if (!unreachable(error)) {
        const message = error && error.status === 403 ? t("gate-not-staff") : (error && error.message) || "";
        return show({ ok: false, outcome: "error", headline: t("gate-reason-error"), detail: message }, startedAt);
      }
      state.reachable = false;
      if (parsed.kind !== "signed" || !state.key) {
        return show({ ok: false, outcome: "offline_unknown", headline: t("gate-offline-unknown"), detail: t("gate-offline-unknown-detail") }, startedAt);
      }
      show(offline(parsed, text.trim(), device), startedAt);
      if (error instanceof Timeout) lateAnswer(request, parsed.code);
    }
  }

  /** A request that outlived our patience may still have checked the ticket in. */
  function lateAnswer(request, code) {
    request.then(
      (body) => {
        state.reachable = true;
        // The server has it: the queued copy must not come back as "let in twice".
        if (body.admitted) store.dropQueued(code);
        showStatus();
      },
      () => {},
    );
  }

  // ---------- the queue ----------
  async function sync() {
    const queue = store.queue();
    if (state.syncing || !queue.length || !alive) return;
    state.syncing = true;
    const batch = queue.slice(0, SYNC_BATCH);
    try {
      const checkins = batch.map(({ qr, device, scannedAt }) => (device ? { qr, device, scannedAt } : { qr, scannedAt }));
      const body = await api.post(`${GATE}/sync`, { checkins });
      state.reachable = true;
      store.removeQueued(batch);
      const trouble = [];
      body.results.forEach((item, index) => {
        if (item.admitted) return;
        trouble.push({
          code: (item.ticket && item.ticket.code) || batch[index].code,
          twice: Boolean(item.twice),
          reason: item.reason,
          ticket: item.ticket,
          usedAt: item.usedAt,
          usedDevice: item.usedDevice,
        });
      });
      if (trouble.length) {
        store.addWarnings(trouble);
        tg?.HapticFeedback?.notificationOccurred("warning");
      }
      showWarnings();
      await refresh();
    } catch (error) {
      if (unreachable(error)) state.reachable = false;
    } finally {
      state.syncing = false;
      showStatus();
      if (store.queue().length && state.reachable) setTimeout(sync, 0);
    }
  }

  /** Load the key and today's lists; keep the cached ones when the server cannot be reached. */
  async function refresh() {
    try {
      const gate = await api.get(GATE);
      store.remember(gate);
      state.reachable = true;
    } catch (error) {
      if (unreachable(error)) state.reachable = false;
      else if (error && error.status === 403) status.textContent = t("gate-not-staff");
    }
    if (alive) showStatus();
  }

  async function loadTitles() {
    try {
      const catalog = await api.get("/api/v2/app/catalog");
      for (const type of catalog.ticketTypes || []) titles[type.code] = type.title;
    } catch {
      // Offline: the QR's type code stands in for its title.
    }
  }

  // ---------- events ----------
  function openScanner() {
    result.hidden = true;
    if (!tg || typeof tg.showScanQrPopup !== "function") return;
    tg.showScanQrPopup({ text: t("gate-scan-hint") }, (text) => {
      if (state.busy) return true;
      state.busy = true;
      check(text, false).finally(() => {
        state.busy = false;
      });
      return true; // close the camera: the answer is shown full screen, "Scan next" reopens it
    });
  }

  function onManual(event) {
    event.preventDefault();
    const text = manualInput.value.trim();
    if (!text || state.busy) return;
    state.busy = true;
    check(text, true).finally(() => {
      state.busy = false;
      manualInput.value = "";
    });
  }

  const onOnline = () => sync();
  const onDevice = () => store.setDevice(deviceInput.value.trim().slice(0, 64));
  scanButton.addEventListener("click", openScanner);
  nextButton.addEventListener("click", openScanner);
  doneButton.addEventListener("click", () => {
    result.hidden = true;
  });
  manual.addEventListener("submit", onManual);
  deviceInput.addEventListener("change", onDevice);
  deviceInput.addEventListener("input", onDevice);
  window.addEventListener("online", onOnline);
  timers.push(setInterval(sync, RETRY_MS));
  timers.push(setInterval(refresh, REFRESH_MS));

  showStatus();
  showWarnings();
  refresh().then(sync);
  loadTitles();

  return function unmount() {
    alive = false;
    timers.forEach(clearInterval);
    window.removeEventListener("online", onOnline);
    try {
      tg?.closeScanQrPopup?.();
    } catch {
      // not open
    }
    root.replaceChildren();
  };
}
