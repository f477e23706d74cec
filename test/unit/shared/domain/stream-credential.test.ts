import { describe, expect, it } from 'vitest';
import { STREAM_SUBPROTOCOL, streamSubprotocols, tokenOfSubprotocols } from '../../../../lambdas/shared/domain/stream-credential.js';

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
