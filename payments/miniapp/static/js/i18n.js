// Fluent in the browser: the Mini App's messages come from /app/i18n/<lang>.ftl (the same
// locale files the bot uses), formatted by the vendored @fluent/bundle. Money and dates go
// through Intl in the customer's language.

import { FluentBundle, FluentResource } from "../vendor/fluent-bundle/index.js";

export const LANGUAGES = ["ru", "en"];

/** The language of a Telegram language code (or the browser's), as the bot picks it. */
export function pickLanguage(code) {
  return String(code || "").toLowerCase().startsWith("en") ? "en" : "ru";
}

/**
 * Load a language's messages; return `t(id, args)`.
 * A missing message shows its id (and says so in the console) rather than breaking the screen.
 */
export async function loadTexts(lang) {
  const response = await fetch(`/app/i18n/${encodeURIComponent(lang)}.ftl`, { cache: "no-cache" });
  if (!response.ok) throw new Error(`no messages for ${lang}: ${response.status}`);
  const bundle = new FluentBundle(lang, { useIsolating: false });
  const problems = bundle.addResource(new FluentResource(await response.text()));
  for (const problem of problems) console.warn("fluent:", problem);
  const t = (id, args = {}) => {
    const message = bundle.getMessage(id);
    if (!message || !message.value) {
      console.warn(`fluent: no message ${id} in ${lang}`);
      return id;
    }
    const errors = [];
    const text = bundle.formatPattern(message.value, args, errors);
    for (const error of errors) console.warn(`fluent: ${id}:`, error);
    return text;
  };
  t.lang = lang;
  return t;
}

/** "1500.00" → 150000 kopecks, exactly (no floating point on money). */
export function toMinor(amount) {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(amount));
  if (!match) throw new Error(`not an amount: ${amount}`);
  const minor = Number(match[2]) * 100 + Number((match[3] || "0").padEnd(2, "0"));
  return match[1] ? -minor : minor;
}

/** 150000 kopecks → "1500.00", the wire format. */
export function fromMinor(minor) {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/**
 * Money for a reader, as the bot writes it: "2 500 ₽" (ru), "2,500 ₽" (en), "249,50 ₽";
 * kopecks only when there are some; a thin space where the language groups with a space.
 */
export function formatMoney(lang, amount, currency = "RUB") {
  const minor = typeof amount === "number" ? amount : toMinor(amount);
  const digits = minor % 100 === 0 ? 0 : 2;
  const options = { minimumFractionDigits: digits, maximumFractionDigits: digits };
  if (currency !== "RUB") {
    return new Intl.NumberFormat(lang, { ...options, style: "currency", currency }).format(minor / 100);
  }
  const number = new Intl.NumberFormat(lang, options).format(minor / 100);
  return `${number.replace(/[\u00a0\u202f]/g, "\u2009")} ₽`;
}

/** "2026-12-02" → a Date at UTC midnight (format it with timeZone UTC: no day shifts). */
export function parseDay(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

/** A Date at UTC midnight → "2026-12-02". */
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** A day for a reader, in their language: "Wednesday, 2 December" / "среда, 2 декабря". */
export function formatDay(lang, iso, options = { weekday: "long", day: "numeric", month: "long" }) {
  return new Intl.DateTimeFormat(lang, { ...options, timeZone: "UTC" }).format(parseDay(iso));
}

/** An instant for a reader in the shop's time zone: "2 Dec, 13:02". */
export function formatMoment(lang, instant, timeZone = "Europe/Moscow") {
  return new Intl.DateTimeFormat(lang, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    timeZone,
  }).format(new Date(instant));
}
