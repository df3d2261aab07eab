// What the gate screen says: every answer (admit, used, other day, forged…) as
// {ok, outcome, headline, detail, code, note}, in the staff member's language.

/** Build the answer makers for one language; `store` gives the shop's today and time zone. */
export function answersFor(t, lang, store) {
  const titles = {};
  const timezone = () => (store.info() && store.info().timezone) || undefined;

  function day(isoDate) {
    const [y, m, d] = isoDate.split("-").map(Number);
    const options = { day: "numeric", month: "long", timeZone: "UTC" };
    const today = store.today() || isoDate;
    if (String(y) !== today.slice(0, 4)) options.year = "numeric";
    return new Intl.DateTimeFormat(lang, options).format(new Date(Date.UTC(y, m - 1, d)));
  }

  function time(instant) {
    const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: timezone() };
    return new Intl.DateTimeFormat(lang, options).format(new Date(instant));
  }

  const title = (type, given) => given || titles[type] || type;

  /** "at 13:02 by Gate 2" (or just "at 13:02" when no device was named). */
  function usedDetail(at, device) {
    const args = { time: at ? time(at) : "—", device: device || "" };
    return device ? t("gate-used-detail-device", args) : t("gate-used-detail", args);
  }

  const admitted = (code, type, given, slot, note) => ({
    ok: true,
    outcome: note ? "admitted_offline" : "admitted",
    headline: t("gate-admit", { count: 1 }),
    detail: t("gate-admit-detail", { ticket: title(type, given), time: slot }),
    code,
    note,
  });
  const refused = (outcome, headline, extra = {}) => ({ ok: false, outcome, headline, ...extra });
  const forged = (code) =>
    refused("forged", t("gate-forged"), { detail: t("gate-forged-detail"), code });
  const otherDay = (code, date, slot) =>
    refused("other_day", t("gate-other-day", { date: day(date) }), { detail: slot, code });
  const test = (code) => refused("test", t("gate-test"), { detail: t("gate-test-detail"), code });
  const used = (code, at, device, note) =>
    refused("used", t("gate-used"), { detail: usedDetail(at, device), code, note });
  const reason = (name) => t(`gate-reason-${name || "error"}`);

  /** Turn a /gate/checkin answer into what the screen says. */
  function fromServer(body, fallbackCode) {
    const ticket = body.ticket;
    const code = ticket ? ticket.code : fallbackCode;
    if (body.admitted && ticket) {
      return admitted(code, ticket.ticketType, ticket.title, ticket.visitTime);
    }
    switch (body.reason) {
      case "used":
        return used(code, body.usedAt, body.usedDevice);
      case "other_day":
        if (ticket) return otherDay(code, ticket.visitDate, ticket.visitTime);
        return refused("other_day", reason("other_day"), { code });
      case "test":
        return test(code);
      case "forged":
        return forged(code);
      default:
        return refused(body.reason || "error", reason(body.reason), { code });
    }
  }

  /** One line of the after-the-outage warning. */
  function warningLine(item) {
    const ticket = item.ticket
      ? `${title(item.ticket.ticketType, item.ticket.title)}, ${item.ticket.visitTime}`
      : "";
    if (item.twice) {
      const first = usedDetail(item.usedAt, item.usedDevice);
      return t("gate-twice-item", { code: item.code, ticket, first });
    }
    return t("gate-refused-item", { code: item.code, ticket, reason: reason(item.reason) });
  }

  return {
    titles,
    admitted,
    refused,
    forged,
    otherDay,
    test,
    used,
    reason,
    fromServer,
    warningLine,
  };
}
