// The request target of an HTTP/1.1 request line (RFC 9112 3.2), read literally.
//
// `new URL(target, base)` is a browser's URL parser, not a server's: it reads `//x/jobs/ID`
// as host `x`, path `/jobs/ID`, and turns `\` into `/`, so `//x/jobs/ID` and `/\x/jobs/ID`
// would be served as `/jobs/ID`. Here an origin-form target keeps its path exactly as
// sent, so such paths match no route; only an absolute-form target (`http://host/path`,
// which a server must accept) names an authority, and the Host rule then applies to it.
// Engine-neutral: no node: imports.

export interface RequestTarget {
  /** The path exactly as sent, before `?`; compared with the routes as it is. */
  readonly path: string;
  /** `?query` (with its `?`) or the empty string. */
  readonly search: string;
  /** `host[:port]` of an absolute-form target, which takes the Host header's place; else null. */
  readonly authority: string | null;
}

const ABSOLUTE_FORM = /^http:\/\/([^/?#]*)/i;

/** Splits a request target into path, query and (absolute form only) authority. */
export function parseTarget(raw: string): RequestTarget {
  let authority: string | null = null;
  let rest = raw;
  const absolute = ABSOLUTE_FORM.exec(raw);
  if (absolute !== null) {
    authority = absolute[1]!;
    rest = raw.slice(absolute[0].length);
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  // Asterisk and authority forms (OPTIONS *, CONNECT host:port) keep their text as the
  // path: no route starts without `/`, so they are answered not_found.
  const question = rest.indexOf('?');
  return question === -1
    ? { path: rest, search: '', authority }
    : { path: rest.slice(0, question), search: rest.slice(question), authority };
}

/** The query of `target` as a URL object (for its searchParams); its path is always `/`. */
export function queryUrl(target: RequestTarget): URL {
  const url = new URL('http://localhost/');
  url.search = target.search;
  return url;
}
