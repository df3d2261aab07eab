// The service's API as the Mini App uses it: a bearer token from Telegram's init data, JSON in
// and out, errors that carry the HTTP status and the server's message.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the service could not be reached
   * @param {string} message the server's message (English; the screens show their own texts)
   * @param {Array<{field: string, message: string}>} [errors] the fields a 422 names
   */
  constructor(status, message, errors = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errors = errors;
  }

  /** True when the request never got an answer (offline, DNS, the service down). */
  get offline() {
    return this.status === 0;
  }
}

export class Api {
  /** @param {string} [base] the service's origin; the page's own by default */
  constructor(base = "") {
    this.base = base;
    this.token = null;
    this.initData = null;
  }

  /** Exchange Telegram's init data for the API's token (Authorization: tma, never the URL). */
  async signIn(initData) {
    const answer = await this.#send("POST", "/api/v2/auth/verify", {
      headers: { Authorization: `tma ${initData}` },
    });
    this.token = answer.accessToken;
    this.initData = initData;
    return answer;
  }

  get(path) {
    return this.#send("GET", path);
  }

  post(path, body) {
    return this.#send("POST", path, { body });
  }

  delete(path) {
    return this.#send("DELETE", path);
  }

  /** Fetch an image (or any file) with the bearer header; return it as a Blob. */
  async blob(path) {
    const response = await this.#fetch("GET", path, {});
    if (!response.ok) throw await this.#error(response);
    return response.blob();
  }

  async #send(method, path, { body, headers } = {}) {
    const response = await this.#fetch(method, path, { body, headers });
    if (!response.ok) throw await this.#error(response);
    if (response.status === 204) return null;
    return response.json();
  }

  /** Send; a token that expired while the app stayed open (a gate shift, a long choice) is
   * renewed from the same init data once and the request sent again. */
  async #fetch(method, path, options) {
    const response = await this.#fetchOnce(method, path, options);
    if (response.status !== 401 || !this.initData || options.headers?.Authorization) {
      return response;
    }
    await this.signIn(this.initData);
    return this.#fetchOnce(method, path, options);
  }

  async #fetchOnce(method, path, { body, headers = {} }) {
    const all = { Accept: "application/json", ...headers };
    if (this.token && !all.Authorization) all.Authorization = `Bearer ${this.token}`;
    const init = { method, headers: all, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      all["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      return await fetch(this.base + path, init);
    } catch (failure) {
      throw new ApiError(0, `no answer from the service: ${failure}`);
    }
  }

  async #error(response) {
    let message = response.statusText;
    let errors = [];
    try {
      const payload = await response.json();
      if (payload && typeof payload.message === "string") message = payload.message;
      if (payload && Array.isArray(payload.errors)) errors = payload.errors;
    } catch {
      // Not JSON (a proxy's page): keep the status text.
    }
    return new ApiError(response.status, message, errors);
  }
}
