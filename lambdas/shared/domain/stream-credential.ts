/**
 * The live stream's credential, in one of three places of the handshake:
 * - two subprotocols, `bearer` and the token (`Sec-WebSocket-Protocol: bearer, <token>`): the
 *   one handshake header a browser's WebSocket lets a page set, so the dashboard's socket URL
 *   holds no token (a URL is kept in access logs, proxies and history). The server selects the
 *   marker: it must select one of the offered values or the browser fails the connection, and
 *   selecting the token would echo the secret back;
 * - `?token=`, the contract's (`DESIGN.md`), for clients such as wscat and scripts;
 * - `Authorization: Bearer <token>`, for clients that can set headers.
 * No imports: the web app bundles this module.
 */
export const STREAM_SUBPROTOCOL = 'bearer';

/** What a client offers on the handshake: `new WebSocket(url, streamSubprotocols(token))`. */
export const streamSubprotocols = (token: string): string[] => [STREAM_SUBPROTOCOL, token];

/** The subprotocols a `Sec-WebSocket-Protocol` value offers, in its order. */
export const subprotocolsOf = (header: string | undefined): string[] =>
  (header ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');

/**
 * The token in a `Sec-WebSocket-Protocol` value (`bearer, <token>`, in either order), or
 * undefined unless it holds exactly the marker and one token.
 */
export function tokenOfSubprotocols(header: string | undefined): string | undefined {
  const offered = subprotocolsOf(header);
  if (offered.length !== 2 || !offered.includes(STREAM_SUBPROTOCOL)) return undefined;
  return offered.find((entry) => entry !== STREAM_SUBPROTOCOL);
}

/** The handshake's values where a credential may be, undefined where the request has none. */
export interface StreamCredentialPlaces {
  /** `Sec-WebSocket-Protocol`; a place of the credential only when it offers `bearer`. */
  subprotocols: string | undefined;
  /** The `token` query parameter. */
  query: string | undefined;
  /** The `Authorization` header. */
  authorization: string | undefined;
}

/**
 * `token`: the credential of a handshake that uses exactly one place, undefined when it uses
 * none or the one it uses is malformed (refused as no credential). `places`: the places of a
 * handshake that uses more than one, the same token or not, to be refused (4400 locally; 401
 * in AWS, where the authorizer can only allow or refuse): which of two credentials is meant is
 * not the server's to guess, and a client that copies the token into the URL beside the
 * subprotocols learns that it does.
 */
export function readStreamCredential({ subprotocols, query, authorization }: StreamCredentialPlaces): { token: string | undefined } | { places: string[] } {
  const used: Array<[place: string, token: string | undefined]> = [];
  if (subprotocolsOf(subprotocols).includes(STREAM_SUBPROTOCOL)) used.push(['Sec-WebSocket-Protocol', tokenOfSubprotocols(subprotocols)]);
  if (query !== undefined) used.push(['?token=', query || undefined]);
  if (authorization !== undefined) used.push(['Authorization', /^Bearer\s+(\S+)$/i.exec(authorization)?.[1]]);
  if (used.length > 1) return { places: used.map(([place]) => place) };
  return { token: used[0]?.[1] };
}
