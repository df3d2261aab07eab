// What the gate keeps on the device so the scanner still answers when the network drops:
// the shop's public key, today's used and refunded codes (GET /api/v2/app/gate), what this
// device let in, and the queue of check-ins made offline. Everything lives in localStorage,
// so a reload (or Telegram closing the Mini App) loses nothing that is still to be sent.

const PREFIX = "zt.gate.";
const KEYS = {
  info: PREFIX + "info", // {publicKey, keyId, today, timezone, fetchedAt}
  used: PREFIX + "used", // {day, codes: {code: {at, by, device}}}
  refunded: PREFIX + "refunded", // {day, codes: [code]}
  queue: PREFIX + "queue", // [{qr, device, scannedAt, code}]
  device: PREFIX + "device",
  warnings: PREFIX + "warnings", // [{code, reason, twice, ticket, usedAt, usedDevice}]
};
const MAX_QUEUE = 2000;

function read(key, fallback) {
  try {
    const raw = window.localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // A full or disabled storage must not stop the gate; the in-page state still works.
  }
}

/** Return "YYYY-MM-DD" of `instant` in a time zone (the shop's). */
export function dayIn(timezone, instant = new Date()) {
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).formatToParts(instant);
    const get = (type) => parts.find((p) => p.type === type).value;
    return `${get("year")}-${get("month")}-${get("day")}`;
  } catch {
    return instant.toISOString().slice(0, 10);
  }
}

export class GateStore {
  /** Return the cached gate info (key, today, time zone), or null before the first load. */
  info() {
    return read(KEYS.info, null);
  }

  /** The shop's today: the server's word while it is still today there, else the clock's. */
  today(now = new Date()) {
    const info = this.info();
    if (!info) return null;
    const fetchedDay = dayIn(info.timezone, new Date(info.fetchedAt));
    return fetchedDay === dayIn(info.timezone, now) ? info.today : dayIn(info.timezone, now);
  }

  /** Keep what GET /api/v2/app/gate said; the server's lists replace ours for that day. */
  remember(gate, now = new Date()) {
    write(KEYS.info, {
      publicKey: gate.publicKey,
      keyId: gate.keyId,
      today: gate.today,
      timezone: gate.timezone,
      fetchedAt: now.toISOString(),
    });
    const codes = {};
    for (const entry of gate.used || []) {
      codes[entry.code] = { at: entry.at, by: entry.by ?? null, device: entry.device ?? null };
    }
    // What this device let in and has not sent yet stays "used" whatever the server says.
    for (const item of this.queue()) {
      if (item.code && !codes[item.code]) {
        codes[item.code] = { at: item.scannedAt, by: null, device: item.device, queued: true };
      }
    }
    write(KEYS.used, { day: gate.today, codes });
    write(KEYS.refunded, { day: gate.today, codes: gate.refunded || [] });
  }

  /** Return how a code was used today ({at, by, device, queued?}), or null. */
  usedToday(code, today) {
    const used = read(KEYS.used, null);
    if (used && used.day === today && used.codes[code]) return used.codes[code];
    const queued = this.queue().find((item) => item.code === code);
    return queued ? { at: queued.scannedAt, by: null, device: queued.device, queued: true } : null;
  }

  /** Whether the server listed a code as refunded today. */
  refundedToday(code, today) {
    const refunded = read(KEYS.refunded, null);
    return Boolean(refunded && refunded.day === today && refunded.codes.includes(code));
  }

  /** Note a ticket let in (online or offline) so a second scan is refused offline too. */
  markUsed(code, today, entry) {
    const used = read(KEYS.used, null);
    const current = used && used.day === today ? used : { day: today, codes: {} };
    current.codes[code] = entry;
    write(KEYS.used, current);
  }

  /** Return the check-ins made offline and not yet accepted by the server, oldest first. */
  queue() {
    return read(KEYS.queue, []);
  }

  /** Queue a check-in made offline; return the queue's new length. */
  enqueue(item) {
    const queue = this.queue();
    queue.push(item);
    write(KEYS.queue, queue.slice(-MAX_QUEUE));
    return Math.min(queue.length, MAX_QUEUE);
  }

  /** Drop the queued items the server has answered for (those of `sent`, matched by scan). */
  removeQueued(sent) {
    const done = new Set(sent.map((item) => `${item.code}|${item.scannedAt}`));
    write(KEYS.queue, this.queue().filter((item) => !done.has(`${item.code}|${item.scannedAt}`)));
  }

  /** Drop a queued code: a request that timed out reached the server after all. */
  dropQueued(code) {
    write(KEYS.queue, this.queue().filter((item) => item.code !== code));
  }

  /** Return the device name the staff typed ("Gate 2"), or "". */
  device() {
    return read(KEYS.device, "");
  }

  setDevice(name) {
    write(KEYS.device, name);
  }

  /** Return the sync's warnings not yet dismissed (tickets admitted twice, refused later). */
  warnings() {
    return read(KEYS.warnings, []);
  }

  addWarnings(items) {
    write(KEYS.warnings, [...this.warnings(), ...items]);
  }

  clearWarnings() {
    write(KEYS.warnings, []);
  }
}
