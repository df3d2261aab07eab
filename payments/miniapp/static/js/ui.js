// Small DOM helpers: elements built from data (never from HTML strings, which the page's
// Content-Security-Policy and plain safety both rule out), and the one way errors are shown.

/**
 * h("button", {class: "x", onclick: f, "aria-label": "…"}, "text", child, …)
 * Attributes: `class`, `text`, `dataset`, on* handlers, booleans (disabled, hidden) and strings.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Empty an element and put new children in. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A loading placeholder with a message. */
export function loading(text) {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spinner" }), text);
}

/**
 * What a failed request means for the customer: what happened, and what to do.
 * `what` overrides the texts by status (e.g. {409: "app-error-seats"}).
 */
export function errorText(t, error, what = {}) {
  const status = error && typeof error.status === "number" ? error.status : -1;
  if (what[status]) return t(what[status]);
  if (status === 0) return t("app-error-offline");
  if (status === 401) return t("app-error-signed-out");
  if (status === 403) return t("app-error-forbidden");
  if (status === 404) return t("app-error-not-found");
  if (status === 409) return t("app-error-conflict");
  if (status === 422) return t("app-error-invalid");
  if (status === 429) return t("app-error-too-many");
  if (status === 503) return t("app-error-unavailable");
  return t("app-error-unexpected");
}

/** An error box: the message and, when given, a button that tries again. */
export function errorView(t, error, { retry, what } = {}) {
  if (error) console.warn(error);
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", { text: errorText(t, error, what) }),
    retry ? h("button", { class: "secondary", onclick: retry, text: t("app-try-again") }) : null,
  );
}
