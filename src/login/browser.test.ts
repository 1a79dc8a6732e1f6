import { describe, expect, it } from 'vitest';
import { openInBrowser } from './browser.js';

/** The opener starts nothing where no browser can show the page, and never takes a URL it did not expect. */
describe('openInBrowser', () => {
  it('starts nothing on Linux without a display (a server, a container, SSH): the printed URL is the way', () => {
    expect(openInBrowser('https://claude.ai/oauth/authorize?x=1', {}, 'linux')).toBe(false);
    expect(openInBrowser('https://claude.ai/oauth/authorize?x=1', { DISPLAY: '', WAYLAND_DISPLAY: '' }, 'linux')).toBe(false);
  });

  it('refuses anything but a plain http(s) URL, whatever the platform', () => {
    for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'https://example.test/a b', 'https://example.test/"$(id)"', '--help']) {
      expect(openInBrowser(url, { DISPLAY: ':0' }, 'linux'), url).toBe(false);
      expect(openInBrowser(url, {}, 'darwin'), url).toBe(false);
    }
  });
});
