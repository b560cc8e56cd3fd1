/**
 * The `--queue` connection string: checked before anything connects, and redacted wherever it
 * is shown. A password (in the URL or its `password=` query parameter) is never printed or
 * logged; messages name the database as `postgres://user:***@host:port/db`.
 *
 * @module
 */
import { FlopsFitError } from "../errors.ts";

/** A connection string that is not a usable `postgres://` URL. */
export class QueueUrlError extends FlopsFitError {
  /**
   * @param message What is wrong, naming the (redacted) string.
   */
  constructor(message: string) {
    super(message, { status: 400 });
    this.name = "QueueUrlError";
  }
}

/**
 * Check a `--queue` value: a `postgres://` or `postgresql://` URL with a host.
 *
 * @param text The flag's value.
 * @returns The URL text, unchanged.
 * @throws {QueueUrlError} For anything else, with the value redacted.
 *
 * @example
 * ```ts
 * import { checkQueueUrl } from "./url.ts";
 * checkQueueUrl("postgres://flops@127.0.0.1:5432/flops");
 * ```
 */
export function checkQueueUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QueueUrlError(
      `--queue: "${redactUrl(text)}" is not a URL; expected postgres://user:password@host:port/db.`,
    );
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new QueueUrlError(
      `--queue: "${redactUrl(text)}" is not a postgres:// URL (scheme ${url.protocol}).`,
    );
  }
  if (url.hostname === "" && !url.searchParams.has("host")) {
    throw new QueueUrlError(`--queue: "${redactUrl(text)}" names no host.`);
  }
  if (url.port !== "" && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) {
    throw new QueueUrlError(`--queue: "${redactUrl(text)}" has an invalid port.`);
  }
  return text;
}

/**
 * A connection string with its password replaced by `***`.
 *
 * @param text A connection string (valid or not).
 * @returns The same string without credentials.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./url.ts";
 * if (redactUrl("postgres://u:secret@h/db") !== "postgres://u:***@h/db") throw new Error();
 * ```
 */
export function redactUrl(text: string): string {
  // userinfo: everything between "//" and the last "@" before the path; keep the user name.
  let out = text.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_m, scheme, info: string) => {
    const colon = info.indexOf(":");
    return colon < 0 ? `${scheme}${info}@` : `${scheme}${info.slice(0, colon)}:***@`;
  });
  out = out.replace(/([?&](?:password|sslpassword|sslkey)=)[^&#]*/gi, "$1***");
  return out;
}

/**
 * Remove a connection string's secrets from any text (an error message from the driver).
 *
 * @param text The text.
 * @param url The connection string whose password must not appear.
 * @returns The text with the URL redacted and its password replaced by `***`.
 */
export function redactText(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url));
  for (const secret of secretsOf(url)) {
    if (secret.length >= 1) out = out.split(secret).join("***");
  }
  return out;
}

function secretsOf(text: string): string[] {
  const secrets: string[] = [];
  try {
    const url = new URL(text);
    if (url.password !== "") {
      secrets.push(url.password);
      secrets.push(decodeURIComponent(url.password));
    }
    const query = url.searchParams.get("password");
    if (query) secrets.push(query);
  } catch {
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#]*:([^@/?#]*)@/i.exec(text);
    if (match?.[1]) secrets.push(match[1]);
  }
  return [...new Set(secrets)].filter((s) => s !== "");
}
