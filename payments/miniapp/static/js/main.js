// The Mini App's shell: signs in with Telegram's init data, loads the customer's language,
// follows Telegram's theme, and switches screens (Shop, Plans, My tickets; Scan for staff).
// Each screen is an ES module exporting `mount(root, app, params)` that returns an unmount
// function; the staff scanner exports `mountScanner(root, app)` the same way.

import { Api } from "./api.js";
import { loadTexts, pickLanguage } from "./i18n.js";
import { errorView, h, loading, replace } from "./ui.js";

const SCREENS = {
  shop: { load: () => import("./shop.js"), text: "app-nav-shop" },
  plans: { load: () => import("./plans.js"), text: "app-nav-plans" },
  tickets: { load: () => import("./tickets.js"), text: "app-nav-tickets" },
  scan: {
    load: async () => ({ mount: (await import("./scanner.js")).mountScanner }),
    text: "app-nav-scan",
    staff: true,
  },
};
const HOME = "shop";

const tg = window.Telegram?.WebApp ?? null;
const body = document.getElementById("app");

/** Telegram's theme as CSS variables (--tg-theme-bg-color, …) and the colour scheme. */
function applyTheme() {
  const style = document.documentElement.style;
  for (const [key, value] of Object.entries(tg?.themeParams ?? {})) {
    style.setProperty(`--tg-theme-${key.replaceAll("_", "-")}`, value);
  }
  document.documentElement.dataset.scheme = tg?.colorScheme === "dark" ? "dark" : "light";
}

/** Telegram's MainButton: one handler at a time. */
function mainButton() {
  let handler = null;
  const button = tg.MainButton;
  return {
    show(text, onClick) {
      if (handler) button.offClick(handler);
      handler = onClick;
      button.setText(text);
      button.onClick(handler);
      button.enable();
      button.hideProgress?.();
      button.show();
    },
    hide() {
      if (handler) button.offClick(handler);
      handler = null;
      button.hideProgress?.();
      button.hide();
    },
    /** Show that the click is being handled (and take no second click meanwhile). */
    busy(on) {
      if (on) {
        button.disable();
        button.showProgress?.(false);
      } else {
        button.hideProgress?.();
        button.enable();
      }
    },
  };
}

/** Telegram's BackButton: one handler at a time; `reset()` goes back to the shell's own. */
function backButton(shell) {
  let handler = null;
  const button = tg.BackButton;
  const api = {
    show(onClick) {
      if (handler) button.offClick(handler);
      handler = onClick;
      button.onClick(handler);
      button.show();
    },
    hide() {
      if (handler) button.offClick(handler);
      handler = null;
      button.hide();
    },
    reset() {
      if (shell.history.length > 1) api.show(() => shell.back());
      else api.hide();
    },
  };
  return api;
}

class Shell {
  constructor(api, t, me) {
    this.history = [];
    this.unmount = null;
    this.app = {
      api,
      t,
      tg,
      me,
      mainButton: mainButton(),
      backButton: backButton(this),
      go: (name, params, options) => this.go(name, params, options),
      back: () => this.back(),
    };
    this.nav = h("nav", { class: "tabs", "aria-label": t("app-nav-label") });
    this.screen = h("main", { id: "screen" });
  }

  render() {
    const { t, me } = this.app;
    const names = Object.keys(SCREENS).filter((name) => this.allowed(name));
    replace(
      this.nav,
      names.map((name) =>
        h("button", {
          class: "tab",
          dataset: { screen: name },
          onclick: () => this.go(name),
          text: t(SCREENS[name].text),
        }),
      ),
    );
    replace(
      body,
      me.sandbox ? h("div", { class: "sandbox", role: "note", text: t("app-sandbox") }) : null,
      this.nav,
      this.screen,
    );
  }

  allowed(name) {
    const screen = SCREENS[name];
    return Boolean(screen) && (!screen.staff || this.app.me.roles.staff || this.app.me.roles.admin);
  }

  /** Show a screen (pushed on the history, so the BackButton returns from it). */
  async go(name, params = {}, { push = true } = {}) {
    if (!this.allowed(name)) name = HOME;
    if (push) this.history.push({ name, params });
    if (this.unmount) {
      try {
        this.unmount();
      } catch (failure) {
        console.warn(failure);
      }
      this.unmount = null;
    }
    this.app.mainButton.hide();
    this.app.backButton.reset();
    for (const tab of this.nav.querySelectorAll(".tab")) {
      tab.setAttribute("aria-current", tab.dataset.screen === name ? "page" : "false");
    }
    document.body.dataset.screen = name;
    const root = h("section", { class: `screen screen-${name}` });
    replace(this.screen, root);
    replace(root, loading(this.app.t("app-loading")));
    try {
      const module = await SCREENS[name].load();
      if (this.screen.firstChild !== root) return; // another screen was chosen meanwhile
      root.replaceChildren();
      this.unmount = (await module.mount(root, this.app, params)) || null;
    } catch (failure) {
      replace(root, errorView(this.app.t, failure, { retry: () => this.go(name, params, { push: false }) }));
    }
    window.scrollTo(0, 0);
  }

  /** Return to the previous screen (the BackButton's default). */
  back() {
    if (this.history.length < 2) return;
    this.history.pop();
    const previous = this.history[this.history.length - 1];
    this.go(previous.name, previous.params, { push: false });
  }
}

/** Ask the customer to open the shop inside Telegram (a payment page may bring them here). */
async function outsideTelegram() {
  const t = await loadTexts(pickLanguage(navigator.language));
  document.documentElement.lang = t.lang;
  replace(
    body,
    h("div", { class: "notice" }, h("h1", { text: t("app-outside-title") }), h("p", { text: t("app-outside-text") })),
  );
}

async function start() {
  if (!tg || !tg.initData) return outsideTelegram();
  tg.ready();
  tg.expand?.();
  applyTheme();
  tg.onEvent?.("themeChanged", applyTheme);
  // Sign in while the texts load: neither waits for the other.
  const api = new Api();
  const signedIn = api.signIn(tg.initData).then(() => api.get("/api/v2/app/me"));
  signedIn.catch(() => {}); // answered below, once there are texts to say it with
  let t = await loadTexts(pickLanguage(tg.initDataUnsafe?.user?.language_code));
  document.documentElement.lang = t.lang;
  replace(body, loading(t("app-loading")));
  let me;
  try {
    me = await signedIn;
  } catch (failure) {
    replace(body, errorView(t, failure, { retry: () => start(), what: { 401: "app-error-sign-in" } }));
    return;
  }
  if (me.language !== t.lang) {
    t = await loadTexts(me.language);
    document.documentElement.lang = t.lang;
  }
  const shell = new Shell(api, t, me);
  shell.render();
  const wanted = new URLSearchParams(location.search).get("screen") || tg.initDataUnsafe?.start_param;
  await shell.go(SCREENS[wanted] ? wanted : HOME);
}

start().catch((failure) => {
  console.error(failure);
  replace(body, h("div", { class: "error", role: "alert", text: String(failure) }));
});
