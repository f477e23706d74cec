/**
 * The live stream's credential travels in `Sec-WebSocket-Protocol`, the one handshake header a
 * browser's WebSocket lets a page set, never in the URL (a URL is kept in access logs, proxies
 * and history). The client offers two subprotocols, this marker and the token; the server
 * selects the marker. It must select one of the offered values or the browser fails the
 * connection, and selecting the token would echo the secret back: hence the marker.
 * No imports: the web app bundles this module.
 */
export const STREAM_SUBPROTOCOL = 'bearer';

/** What a client offers on the handshake: `new WebSocket(url, streamSubprotocols(token))`. */
export const streamSubprotocols = (token: string): string[] => [STREAM_SUBPROTOCOL, token];

/**
 * The token in a `Sec-WebSocket-Protocol` value (`bearer, <token>`, in either order), or
 * undefined unless it holds exactly the marker and one token.
 */
export function tokenOfSubprotocols(header: string | undefined): string | undefined {
  const offered = (header ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (offered.length !== 2 || !offered.includes(STREAM_SUBPROTOCOL)) return undefined;
  return offered.find((entry) => entry !== STREAM_SUBPROTOCOL);
}
