// A stand-in for https://telegram.org/js/telegram-web-app.js in browser tests: the test serves
// it at that URL. It defines window.Telegram.WebApp from window.__tgConfig (set by the test
// with an init script: initData signed with the bot's token, the user, theme), renders the
// MainButton and BackButton as real DOM buttons (#tg-main-button, #tg-back-button) the test
// can click, and records what the app asked of Telegram in window.__tg.
(() => {
  const config = window.__tgConfig || {};
  const record = {
    opened: [],
    haptics: [],
    alerts: [],
    confirms: [],
    scanPopups: [],
    scanClosed: 0,
    ready: false,
    expanded: false,
    // The answer showConfirm gives (the test may change it).
    confirmAnswer: true,
    scanCallback: null,
    /** Feed the native QR scanner's callback, as if Telegram's camera read `text`. */
    scan(text) {
      if (!record.scanCallback) throw new Error("the QR scanner is not open");
      const close = record.scanCallback(text);
      if (close === true) webApp.closeScanQrPopup();
    },
  };
  window.__tg = record;

  const events = {};
  const emit = (name, ...args) => (events[name] || []).slice().forEach((f) => f(...args));

  function domButton(id, place) {
    let element = document.getElementById(id);
    if (!element) {
      element = document.createElement("button");
      element.id = id;
      element.type = "button";
      const s = element.style;
      s.position = "fixed";
      s.zIndex = "1000";
      s.minHeight = "48px";
      s.border = "0";
      s.borderRadius = "10px";
      s.font = "600 16px system-ui, sans-serif";
      Object.assign(s, place);
      (document.body || document.documentElement).append(element);
    }
    return element;
  }

  function makeButton(id, place, withText) {
    const handlers = [];
    const state = { isVisible: false, isActive: true, isProgressVisible: false, text: "" };
    const render = () => {
      if (!document.body) return;
      const element = domButton(id, place);
      element.hidden = !state.isVisible;
      element.style.display = state.isVisible ? "block" : "none";
      element.disabled = !state.isActive || state.isProgressVisible;
      element.textContent = withText ? state.text + (state.isProgressVisible ? " …" : "") : "←";
      element.onclick = () => handlers.slice().forEach((f) => f());
    };
    const button = {
      get isVisible() { return state.isVisible; },
      get isActive() { return state.isActive; },
      get isProgressVisible() { return state.isProgressVisible; },
      get text() { return state.text; },
      setText(text) { state.text = String(text); render(); return button; },
      onClick(f) { if (!handlers.includes(f)) handlers.push(f); render(); return button; },
      offClick(f) { const i = handlers.indexOf(f); if (i >= 0) handlers.splice(i, 1); return button; },
      show() { state.isVisible = true; render(); return button; },
      hide() { state.isVisible = false; render(); return button; },
      enable() { state.isActive = true; render(); return button; },
      disable() { state.isActive = false; render(); return button; },
      showProgress() { state.isProgressVisible = true; render(); return button; },
      hideProgress() { state.isProgressVisible = false; render(); return button; },
      setParams(params) {
        if ("text" in params) state.text = String(params.text);
        if ("is_visible" in params) state.isVisible = Boolean(params.is_visible);
        if ("is_active" in params) state.isActive = Boolean(params.is_active);
        render();
        return button;
      },
    };
    return button;
  }

  const bottom = { left: "12px", right: "12px", bottom: "12px", background: "#2481cc", color: "#fff" };
  const top = { left: "8px", top: "8px", width: "48px", background: "#e0e0e0", color: "#000" };

  const webApp = {
    initData: config.initData || "",
    initDataUnsafe: config.initDataUnsafe || {},
    version: "8.0",
    platform: config.platform || "tdesktop",
    colorScheme: config.colorScheme || "light",
    themeParams: config.themeParams || {},
    isExpanded: false,
    viewportHeight: window.innerHeight,
    viewportStableHeight: window.innerHeight,
    MainButton: makeButton("tg-main-button", bottom, true),
    BackButton: makeButton("tg-back-button", top, false),
    HapticFeedback: {
      impactOccurred(style) { record.haptics.push(["impact", style]); return webApp.HapticFeedback; },
      notificationOccurred(type) { record.haptics.push(["notification", type]); return webApp.HapticFeedback; },
      selectionChanged() { record.haptics.push(["selection"]); return webApp.HapticFeedback; },
    },
    ready() { record.ready = true; },
    expand() { record.expanded = true; webApp.isExpanded = true; },
    close() { record.closed = true; },
    isVersionAtLeast() { return true; },
    openLink(url, options) { record.opened.push({ url: String(url), options: options || null }); },
    openTelegramLink(url) { record.opened.push({ url: String(url), telegram: true }); },
    showAlert(message, callback) { record.alerts.push(String(message)); if (callback) setTimeout(callback, 0); },
    showConfirm(message, callback) {
      record.confirms.push(String(message));
      if (callback) setTimeout(() => callback(Boolean(record.confirmAnswer)), 0);
    },
    showPopup(params, callback) {
      record.alerts.push(String(params && params.message));
      if (callback) setTimeout(() => callback(null), 0);
    },
    showScanQrPopup(params, callback) {
      // As telegram-web-app.js does: a second scanner over an open one is an error.
      if (record.scanCallback) throw new Error("WebAppScanQrPopupOpened");
      record.scanPopups.push(params || {});
      record.scanCallback = callback || null;
      emit("qrTextReceived_open");
    },
    closeScanQrPopup() {
      record.scanClosed += 1;
      record.scanCallback = null;
      emit("scanQrPopupClosed");
    },
    onEvent(name, f) { (events[name] = events[name] || []).push(f); },
    offEvent(name, f) { const list = events[name] || []; const i = list.indexOf(f); if (i >= 0) list.splice(i, 1); },
    sendData(data) { record.sent = String(data); },
    enableClosingConfirmation() {},
    disableClosingConfirmation() {},
    setHeaderColor() {},
    setBackgroundColor() {},
  };
  // Let a test fire Telegram events (themeChanged, activated, …).
  record.emit = emit;
  window.Telegram = { WebApp: webApp };
})();
