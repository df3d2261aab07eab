// The shop's month calendar: which days can be booked, which are sold out or closed, and how
// many seats are free; the bookable window bounds the months one can page to.

import { formatDay, isoDay, parseDay } from "./i18n.js";
import { h, replace } from "./ui.js";

const MONDAY = Date.UTC(2024, 0, 1); // a Monday: weekday names start from it

/** "2026-12" of a "2026-12-02". */
export const monthOf = (iso) => iso.slice(0, 7);

function monthStart(month) {
  return `${month}-01`;
}

function monthEnd(month) {
  const [y, m] = month.split("-").map(Number);
  return isoDay(new Date(Date.UTC(y, m, 0)));
}

function shiftMonth(month, by) {
  const [y, m] = month.split("-").map(Number);
  return isoDay(new Date(Date.UTC(y, m - 1 + by, 1))).slice(0, 7);
}

/** The reason a day cannot be booked, as a CSS class and a text id. */
function look(day) {
  if (!day) return { cls: "beyond", state: "app-day-state-beyond" };
  if (day.open) return { cls: "open", state: "app-day-state-open" };
  switch (day.reason) {
    case "sold_out":
      return { cls: "sold-out", state: "app-day-state-sold-out", mark: "app-day-mark-sold-out" };
    case "closed":
    case "closed_weekday":
      return { cls: "closed", state: "app-day-state-closed", mark: "app-day-mark-closed" };
    case "past":
      return { cls: "past", state: "app-day-state-past" };
    default:
      return { cls: "beyond", state: "app-day-state-beyond" };
  }
}

/**
 * A calendar over /api/v2/app/availability. `onPick(day)` gets the picked day's record
 * (with its slots). Call `show(month)` to (re)render; `selected` marks the picked date.
 */
export class Calendar {
  constructor(app, onPick) {
    this.app = app;
    this.onPick = onPick;
    this.window = null; // {today, firstDate, lastDate}
    this.months = new Map(); // "2026-12" → Map(date → day)
    this.selected = null;
    this.month = null;
    this.element = h("div", { class: "calendar-block" });
  }

  /** Load the bookable window and its first month. */
  async start() {
    const answer = await this.app.api.get("/api/v2/app/availability");
    this.window = { today: answer.today, firstDate: answer.firstDate, lastDate: answer.lastDate };
    this.#keep(answer.days);
    this.month = monthOf(answer.firstDate);
    await this.show(this.month);
  }

  #keep(days) {
    for (const day of days) {
      const month = monthOf(day.date);
      if (!this.months.has(month)) this.months.set(month, new Map());
      this.months.get(month).set(day.date, day);
    }
  }

  /** Fetch a month's days afresh (free seats change while the customer looks). */
  async refresh(month = this.month) {
    const from = monthStart(month) < this.window.today ? this.window.today : monthStart(month);
    const to = monthEnd(month);
    if (from > to) return;
    const answer = await this.app.api.get(`/api/v2/app/availability?from=${from}&to=${to}`);
    this.months.set(month, new Map());
    this.#keep(answer.days);
  }

  /** The day record of a date, if loaded. */
  day(iso) {
    return this.months.get(monthOf(iso))?.get(iso) ?? null;
  }

  async show(month) {
    this.month = month;
    if (!this.#complete(month)) await this.refresh(month);
    this.render();
  }

  #complete(month) {
    const days = this.months.get(month);
    if (!days) return false;
    const from = monthStart(month) < this.window.today ? this.window.today : monthStart(month);
    for (let d = parseDay(from); isoDay(d) <= monthEnd(month); d.setUTCDate(d.getUTCDate() + 1)) {
      if (!days.has(isoDay(d))) return false;
    }
    return true;
  }

  render() {
    const { t } = this.app;
    const lang = t.lang;
    const month = this.month;
    const title = new Intl.DateTimeFormat(lang, { month: "long", year: "numeric", timeZone: "UTC" }).format(
      parseDay(monthStart(month)),
    );
    const canBack = month > monthOf(this.window.firstDate);
    const canNext = monthStart(shiftMonth(month, 1)) <= this.window.lastDate;
    const grid = h("div", { class: "calendar", role: "grid", "aria-label": title });
    const weekday = new Intl.DateTimeFormat(lang, { weekday: "short", timeZone: "UTC" });
    for (let i = 0; i < 7; i += 1) {
      grid.append(h("div", { class: "weekday", role: "columnheader", text: weekday.format(new Date(MONDAY + i * 86_400_000)) }));
    }
    const first = parseDay(monthStart(month));
    const offset = (first.getUTCDay() + 6) % 7;
    for (let i = 0; i < offset; i += 1) grid.append(h("div", { class: "day blank", "aria-hidden": "true" }));
    let anyOpen = false;
    for (let d = first; isoDay(d) <= monthEnd(month); d = new Date(d.getTime() + 86_400_000)) {
      const iso = isoDay(d);
      const record = this.day(iso) ?? (iso < this.window.today ? { date: iso, open: false, reason: "past" } : null);
      const { cls, state, mark } = look(record);
      anyOpen ||= Boolean(record?.open);
      const label = t("app-day-label", {
        day: formatDay(lang, iso, { weekday: "long", day: "numeric", month: "long" }),
        state: t(state, { free: record?.free ?? 0 }),
      });
      grid.append(
        h(
          "button",
          {
            class: `day ${cls}`,
            dataset: { date: iso },
            "aria-label": label,
            title: label,
            "aria-pressed": this.selected === iso ? "true" : "false",
            disabled: !record?.open,
            onclick: () => this.#pick(iso),
          },
          h("span", { class: "num", text: String(d.getUTCDate()) }),
          h("span", { class: "mark", text: record?.open ? String(record.free) : mark ? t(mark) : "\u00a0" }),
        ),
      );
    }
    replace(
      this.element,
      h(
        "div",
        { class: "month" },
        h("button", { class: "prev", "aria-label": t("app-month-prev"), disabled: !canBack, onclick: () => this.#page(-1), text: "‹" }),
        h("h2", { text: title }),
        h("button", { class: "next", "aria-label": t("app-month-next"), disabled: !canNext, onclick: () => this.#page(1), text: "›" }),
      ),
      grid,
      h(
        "div",
        { class: "legend" },
        h("span", {}, h("span", { class: "sw open-sw" }), t("app-legend-open")),
        h("span", {}, h("span", { class: "sw sold-out" }), t("app-legend-sold-out")),
        h("span", {}, h("span", { class: "sw closed" }), t("app-legend-closed")),
      ),
      anyOpen ? null : h("p", { class: "hint", text: t("app-no-days") }),
    );
  }

  async #page(by) {
    this.app.tg.HapticFeedback?.selectionChanged();
    await this.show(shiftMonth(this.month, by));
  }

  #pick(iso) {
    const record = this.day(iso);
    if (!record?.open) return;
    this.selected = iso;
    this.app.tg.HapticFeedback?.selectionChanged();
    this.render();
    this.onPick(record);
  }
}
