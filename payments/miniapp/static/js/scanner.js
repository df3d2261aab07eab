// The staff "Scan tickets" screen: Telegram's native QR scanner → the ticket's signature checked
// here (WebCrypto Ed25519) → the gate API → a full-screen green or red answer with haptics.
// When the gate API cannot be reached the answer comes from the signature, today's cached used
// and refunded codes and this device's own queue; the queue is sent (POST /gate/sync) when the
// network is back, and any ticket the server says was let in twice is shown as a warning.

import { answersFor } from "./gate-answers.js";
import { importGateKey, parseTicketQr, verifySigned } from "./gate-qr.js";
import { GateStore } from "./gate-store.js";

const GATE = "/api/v2/app/gate";
// After this the gate answers offline; a late answer is still reconciled (lateAnswer).
const REQUEST_PATIENCE_MS = 2500;
const RETRY_MS = 5000; // while offline check-ins wait to be sent
const REFRESH_MS = 5 * 60 * 1000; // today's used and refunded lists
const SYNC_BATCH = 200;
// A green answer stays up this long, then the camera opens again for the next visitor; a red one
// stays until the staff member moves on ("Scan next"), since someone has to deal with it.
const RESCAN_MS = 1500;
// No status (fetch failed) or a proxy saying the service is not there: the network, not a "no".
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

function button(className, text, type = "button") {
  const node = el("button", className, text);
  node.type = type;
  return node;
}

function field(id, label, input) {
  const caption = el("label", "gate-label", label);
  input.id = id;
  input.className = "gate-input";
  caption.htmlFor = id;
  return caption;
}

/** Build the screen's DOM; return its parts. */
function render(root, t, store) {
  const screen = el("section", "gate");
  const status = el("p", "gate-status");
  status.setAttribute("role", "status");
  const warnings = el("div", "gate-warnings");
  warnings.hidden = true;
  const scan = button("gate-scan", t("gate-scan"));

  const manual = el("form", "gate-manual");
  const code = el("input");
  const codeLabel = field("gate-manual-code", t("gate-manual-label"), code);
  Object.assign(code, { name: "code", autocomplete: "off", spellcheck: false });
  code.setAttribute("autocapitalize", "characters");
  code.placeholder = "ZT-7K3M-9QXD-2FAB";
  const row = el("div", "gate-row");
  row.append(code, button("gate-check", t("gate-manual-check"), "submit"));
  manual.append(codeLabel, row);

  const deviceBlock = el("div", "gate-device");
  const device = el("input");
  deviceBlock.append(field("gate-device", t("gate-device-label"), device), device);
  Object.assign(device, { maxLength: 64, value: store.device() });
  device.placeholder = t("gate-device-placeholder");

  const result = el("div", "gate-result");
  result.hidden = true;
  result.setAttribute("role", "alert");
  const parts = {
    mark: el("div", "gate-result-mark"),
    headline: el("h2", "gate-result-headline"),
    detail: el("p", "gate-result-detail"),
    code: el("p", "gate-result-code"),
    note: el("p", "gate-result-note"),
  };
  const next = button("gate-result-next", t("gate-scan-next"));
  const done = button("gate-result-done", t("gate-done"));
  const buttons = el("div", "gate-result-buttons");
  buttons.append(next, done);
  result.append(...Object.values(parts), buttons);

  const title = el("h1", "gate-title", t("gate-title"));
  screen.append(title, status, warnings, scan, manual, deviceBlock, result);
  root.replaceChildren(screen);
  return { status, warnings, scan, manual, code, device, result, parts, next, done };
}

/** Mount the scanner into `root`; return a function that unmounts it. */
export function mountScanner(root, app) {
  const { api, t, tg } = app;
  const lang = (app.me && app.me.language) || document.documentElement.lang || "ru";
  const store = new GateStore();
  const say = answersFor(t, lang, store);
  const state = {
    key: null,
    keyFor: null,
    reachable: true,
    busy: false,
    syncing: false,
    popup: false, // Telegram's scanner is open (opening it twice is an error there)
    shown: 0, // answers shown so far: a later one cancels a pending re-scan
  };
  const timers = [];
  let alive = true;

  useStylesheet();
  const view = render(root, t, store);
  app.mainButton?.hide();


  function showStatus() {
    const queued = store.queue().length;
    view.status.classList.toggle("gate-status-offline", !state.reachable);
    if (!state.reachable) view.status.textContent = t("gate-offline", { count: queued });
    else if (queued) view.status.textContent = t("gate-sending", { count: queued });
    else view.status.textContent = t("gate-online");
  }

  function showWarnings() {
    const items = store.warnings();
    view.warnings.hidden = items.length === 0;
    if (!items.length) {
      view.warnings.replaceChildren();
      return;
    }
    const head = el("h2", "gate-warnings-title", t("gate-twice-title", { count: items.length }));
    const list = el("ul", "gate-warnings-list");
    for (const item of items) list.append(el("li", "gate-warning", say.warningLine(item)));
    const dismiss = button("gate-warnings-dismiss", t("gate-dismiss"));
    dismiss.addEventListener("click", () => {
      store.clearWarnings();
      showWarnings();
    });
    view.warnings.replaceChildren(head, list, dismiss);
  }

  function hideResult() {
    view.result.hidden = true;
    app.backButton?.reset?.();
  }

  /** Show an answer full screen, with the haptic that goes with it; return the answer. */
  function show(answer, startedAt) {
    if (!alive) return answer;
    state.shown += 1;
    const { result, parts } = view;
    result.dataset.seq = String(state.shown);
    result.classList.toggle("gate-result-ok", answer.ok);
    result.classList.toggle("gate-result-bad", !answer.ok);
    result.dataset.outcome = answer.outcome;
    parts.mark.textContent = answer.ok ? "✓" : "✕";
    parts.headline.textContent = answer.headline;
    parts.detail.textContent = answer.detail || "";
    parts.code.textContent = answer.code || "";
    parts.note.textContent = answer.note || "";
    result.dataset.ms = String(Math.round(performance.now() - startedAt));
    result.hidden = false;
    app.backButton?.show(hideResult);
    tg?.HapticFeedback?.notificationOccurred(answer.ok ? "success" : "error");
    showStatus();
    view.next.focus();
    return answer;
  }

  /** Answer without the server: the signature was good, the day is today, not a test. */
  function offline(parsed, qr, device) {
    const today = store.today();
    const note = t("gate-offline-note");
    if (store.refundedToday(parsed.code, today)) {
      return say.refused("refunded", say.reason("refunded"), { code: parsed.code, note });
    }
    const used = store.usedToday(parsed.code, today);
    if (used) return say.used(parsed.code, used.at, used.device, note);
    const scannedAt = new Date().toISOString();
    store.enqueue({ qr, device, scannedAt, code: parsed.code });
    store.markUsed(parsed.code, today, { at: scannedAt, by: null, device, queued: true });
    return say.admitted(parsed.code, parsed.ticketType, null, parsed.time, note);
  }

  async function verifier() {
    const info = store.info();
    if (!info) return null;
    if (state.keyFor !== info.publicKey) {
      state.key = await importGateKey(info.publicKey);
      state.keyFor = info.publicKey;
    }
    return state.key;
  }

  function deviceName() {
    return view.device.value.trim().slice(0, 64) || null;
  }

  /** What the browser can say before any request, or null to ask the server. */
  async function precheck(parsed, typed) {
    if (parsed.kind === "malformed") return say.forged(null);
    if (parsed.kind === "other" && !typed) return say.refused("not_ticket", t("gate-not-ticket"));
    if (parsed.kind !== "signed") return null;
    // Without a key (never online yet, or no Ed25519 in this WebView) only the server can judge.
    const key = await verifier();
    if (!key) return null;
    if (!(await verifySigned(key, parsed))) return say.forged(parsed.code);
    if (parsed.date !== store.today()) return say.otherDay(parsed.code, parsed.date, parsed.time);
    if (parsed.test) return say.test(parsed.code);
    return null;
  }

  /** Check one scanned or typed text in, show the answer and return it. */
  async function check(raw, typed) {
    const startedAt = performance.now();
    const qr = raw.trim();
    const device = deviceName();
    const parsed = parseTicketQr(qr);
    const early = await precheck(parsed, typed);
    if (early) return show(early, startedAt);
    const request = api.post(`${GATE}/checkin`, device ? { qr, device } : { qr });
    try {
      const body = await within(request, REQUEST_PATIENCE_MS);
      state.reachable = true;
      if (body.admitted && body.ticket) {
        const at = body.usedAt || new Date().toISOString();
        store.markUsed(body.ticket.code, store.today(), { at, by: null, device });
      }
      sync();
      return show(say.fromServer(body, parsed.code), startedAt);
    } catch (error) {
      if (!unreachable(error)) {
        const detail = error && error.status === 403 ? t("gate-not-staff") : error?.message;
        return show(say.refused("error", say.reason("error"), { detail }), startedAt);
      }
      state.reachable = false;
      if (parsed.kind !== "signed" || !state.key) {
        const detail = t("gate-offline-unknown-detail");
        return show(say.refused("offline_unknown", t("gate-offline-unknown"), { detail }), startedAt);
      }
      if (error instanceof Timeout) lateAnswer(request, parsed.code);
      return show(offline(parsed, qr, device), startedAt);
    }
  }

  /** A request that outlived our patience may still have checked the ticket in. */
  function lateAnswer(request, code) {
    request.then(
      (body) => {
        // The server has it: the queued copy must not come back as "let in twice".
        if (body.admitted) store.dropQueued(code);
        state.reachable = true;
        if (alive) showStatus();
      },
      () => {},
    );
  }

  /** Send the offline check-ins; show what the server refused or saw twice. */
  async function sync() {
    const batch = store.queue().slice(0, SYNC_BATCH);
    if (state.syncing || !batch.length || !alive) return;
    state.syncing = true;
    try {
      const checkins = batch.map(({ qr, device, scannedAt }) =>
        device ? { qr, device, scannedAt } : { qr, scannedAt },
      );
      const body = await api.post(`${GATE}/sync`, { checkins });
      state.reachable = true;
      store.removeQueued(batch);
      const trouble = body.results
        .map((item, index) => ({ item, sent: batch[index] }))
        .filter(({ item }) => !item.admitted)
        .map(({ item, sent }) => ({
          code: item.ticket?.code || sent.code,
          twice: Boolean(item.twice),
          reason: item.reason,
          ticket: item.ticket,
          usedAt: item.usedAt,
          usedDevice: item.usedDevice,
        }));
      if (trouble.length) {
        store.addWarnings(trouble);
        tg?.HapticFeedback?.notificationOccurred("warning");
        showWarnings();
      }
      await refresh();
    } catch (error) {
      if (unreachable(error)) state.reachable = false;
    } finally {
      state.syncing = false;
      if (alive) showStatus();
    }
    if (state.reachable && store.queue().length) sync();
  }

  /** Load the key and today's lists; keep the cached ones while the server cannot be reached. */
  async function refresh() {
    try {
      store.remember(await api.get(GATE));
      state.reachable = true;
    } catch (error) {
      if (unreachable(error)) state.reachable = false;
    }
    if (alive) showStatus();
  }

  async function loadTitles() {
    try {
      const catalog = await api.get("/api/v2/app/catalog");
      for (const type of catalog.ticketTypes || []) say.titles[type.code] = type.title;
    } catch {
      // Offline: the QR's type code stands in for its title.
    }
  }

  /** After a green answer, open the camera again by itself unless something else happened. */
  function rescanLater() {
    const shown = state.shown;
    timers.push(
      setTimeout(() => {
        if (alive && !view.result.hidden && state.shown === shown) openScanner({ keep: true });
      }, RESCAN_MS),
    );
  }

  /** Open Telegram's scanner; `keep` leaves the last answer under it. */
  function openScanner({ keep = false } = {}) {
    if (!keep) hideResult();
    if (typeof tg?.showScanQrPopup !== "function" || state.popup) return;
    state.popup = true;
    tg.showScanQrPopup({ text: t("gate-scan-hint") }, (text) => {
      if (!state.busy) {
        state.busy = true;
        check(text || "", false)
          .then((answer) => {
            if (answer?.ok) rescanLater();
          })
          .finally(() => {
            state.busy = false;
          });
      }
      state.popup = false;
      return true; // close the camera: the answer is shown full screen
    });
  }

  function onManual(event) {
    event.preventDefault();
    const text = view.code.value.trim();
    if (!text || state.busy) return;
    state.busy = true;
    check(text, true).finally(() => {
      state.busy = false;
      view.code.value = "";
    });
  }

  const onOnline = () => sync();
  const onPopupClosed = () => {
    state.popup = false;
  };
  const onDevice = () => store.setDevice(view.device.value.trim().slice(0, 64));
  view.scan.addEventListener("click", () => openScanner());
  view.next.addEventListener("click", () => openScanner());
  tg?.onEvent?.("scanQrPopupClosed", onPopupClosed);
  view.done.addEventListener("click", hideResult);
  view.manual.addEventListener("submit", onManual);
  view.device.addEventListener("input", onDevice);
  window.addEventListener("online", onOnline);
  timers.push(setInterval(sync, RETRY_MS), setInterval(refresh, REFRESH_MS));

  showStatus();
  showWarnings();
  refresh().then(sync);
  loadTitles();

  return function unmount() {
    alive = false;
    timers.forEach((id) => {
      clearInterval(id);
      clearTimeout(id);
    });
    window.removeEventListener("online", onOnline);
    tg?.offEvent?.("scanQrPopupClosed", onPopupClosed);
    try {
      tg?.closeScanQrPopup?.();
    } catch {
      // The popup was not open.
    }
    root.replaceChildren();
  };
}
