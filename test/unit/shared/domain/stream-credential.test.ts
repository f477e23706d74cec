import { describe, expect, it } from 'vitest';
import { readStreamCredential, STREAM_SUBPROTOCOL, streamSubprotocols, tokenOfSubprotocols } from '../../../../lambdas/shared/domain/stream-credential.js';

const none = { subprotocols: undefined, query: undefined, authorization: undefined };

describe('the stream credential as subprotocols', () => {
  it('reads back the token a client offers beside the marker, as the header joins them', () => {
    const offered = streamSubprotocols('eyJ.a.b');
    expect(offered).toEqual([STREAM_SUBPROTOCOL, 'eyJ.a.b']);
    expect(tokenOfSubprotocols(offered.join(', '))).toBe('eyJ.a.b');
    expect(tokenOfSubprotocols('wk_0123456789abcdef_x-y,bearer')).toBe('wk_0123456789abcdef_x-y');
  });

  it('finds none unless the value is exactly the marker and one token', () => {
    for (const header of [undefined, '', 'bearer', 'eyJ.a.b', 'bearer.eyJ.a.b', 'bearer, eyJ.a.b, chat', 'bearer, bearer', 'chat, eyJ.a.b', ' , ']) {
      expect(tokenOfSubprotocols(header), String(header)).toBeUndefined();
    }
  });
});

describe('the stream credential of a handshake', () => {
  it('is the token of whichever one place carries it: the subprotocols, ?token= or an Authorization header', () => {
    expect(readStreamCredential({ ...none, subprotocols: 'bearer, eyJ.a.b' })).toEqual({ token: 'eyJ.a.b' });
    expect(readStreamCredential({ ...none, query: 'eyJ.a.b' })).toEqual({ token: 'eyJ.a.b' });
    expect(readStreamCredential({ ...none, authorization: 'Bearer eyJ.a.b' })).toEqual({ token: 'eyJ.a.b' });
    expect(readStreamCredential({ ...none, authorization: 'bearer   wk_0123456789abcdef_x-y' })).toEqual({ token: 'wk_0123456789abcdef_x-y' });
  });

  it('counts subprotocols without the marker as no place: ?token= beside them is the one credential', () => {
    expect(readStreamCredential({ ...none, subprotocols: 'chat', query: 'eyJ.a.b' })).toEqual({ token: 'eyJ.a.b' });
  });

  it('is none when no place carries one, or the one that does is malformed there', () => {
    expect(readStreamCredential(none)).toEqual({ token: undefined });
    for (const subprotocols of ['bearer', 'bearer, eyJ.a.b, chat', 'bearer, bearer']) expect(readStreamCredential({ ...none, subprotocols }), subprotocols).toEqual({ token: undefined });
    expect(readStreamCredential({ ...none, query: '' })).toEqual({ token: undefined });
    for (const authorization of ['', 'eyJ.a.b', 'Basic d2tfeDo=', 'Bearer a b']) expect(readStreamCredential({ ...none, authorization }), authorization).toEqual({ token: undefined });
  });

  it('names every place when more than one is used, the same token or not', () => {
    expect(readStreamCredential({ subprotocols: 'bearer, eyJ.a.b', query: 'eyJ.a.b', authorization: undefined })).toEqual({ places: ['Sec-WebSocket-Protocol', '?token='] });
    expect(readStreamCredential({ subprotocols: undefined, query: 'eyJ.a.b', authorization: 'Bearer eyJ.c.d' })).toEqual({ places: ['?token=', 'Authorization'] });
    expect(readStreamCredential({ subprotocols: 'bearer', query: undefined, authorization: 'Bearer eyJ.c.d' })).toEqual({ places: ['Sec-WebSocket-Protocol', 'Authorization'] });
    expect(readStreamCredential({ subprotocols: 'bearer, eyJ.a.b', query: 'eyJ.a.b', authorization: 'Bearer eyJ.a.b' })).toEqual({ places: ['Sec-WebSocket-Protocol', '?token=', 'Authorization'] });
  });
});
