// The signed ticket QR (payments/tickets/signing.py) read in the browser:
// `ZT1.<code>.<yyyymmdd>.<HHMM>.<ticketType>.<flag>.<sig>`, sig = base64url Ed25519 over the
// UTF-8 bytes before the last dot. The scanner checks the signature here, before it talks to
// the server, so a forged QR is refused even when the network is down.

const SIGNED = /^ZT1\.([^.]+)\.(\d{8})\.(\d{4})\.([^.]+)\.([tp])\.([A-Za-z0-9_-]+)$/;
// A printed code (ZT-7K3M-9QXD-2FAB in any case, spacing) or an older URL-safe token.
const PLAIN_CODE = /^[A-Za-z0-9_\- ]{6,64}$/;

/** Decode base64url without padding; return null for anything else. */
export function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  try {
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Read scanned text. Returns one of
 *   {kind: "signed", code, date: "YYYY-MM-DD", time: "HH:MM", ticketType, test, payload, sig}
 *   {kind: "malformed"}  — claims to be ours (ZT1.) but is not well formed: treat as forged
 *   {kind: "code", code} — a bare code (old QR, printed code): only the server can judge it
 *   {kind: "other"}      — not a ticket at all
 */
export function parseTicketQr(text) {
  const value = (text || "").trim();
  if (value.startsWith("ZT1.")) {
    const match = SIGNED.exec(value);
    const sig = match ? fromBase64Url(match[6]) : null;
    if (!match || !sig || sig.length !== 64) return { kind: "malformed" };
    const [, code, ymd, hhmm, ticketType, flag] = match;
    const date = `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`;
    return {
      kind: "signed",
      code,
      date,
      time: `${hhmm.slice(0, 2)}:${hhmm.slice(2, 4)}`,
      ticketType,
      test: flag === "t",
      payload: value.slice(0, value.lastIndexOf(".")),
      sig,
    };
  }
  if (PLAIN_CODE.test(value)) return { kind: "code", code: value };
  return { kind: "other" };
}

/** Import the shop's raw Ed25519 public key; null when this browser's WebCrypto lacks Ed25519. */
export async function importGateKey(publicKey) {
  const raw = fromBase64Url(publicKey || "");
  if (!raw || raw.length !== 32 || !globalThis.crypto?.subtle) return null;
  try {
    return await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    return null;
  }
}

/** Whether the QR's signature was made by the shop's key. */
export async function verifySigned(key, parsed) {
  try {
    return await crypto.subtle.verify(
      { name: "Ed25519" },
      key,
      parsed.sig,
      new TextEncoder().encode(parsed.payload),
    );
  } catch {
    return false;
  }
}
