import { spawn } from 'node:child_process';

/**
 * Opens the authorize URL in the user's browser when there plainly is one, without a shell: the
 * URL goes to the opener as one argument (`xdg-open URL`, `open URL`, `rundll32
 * url.dll,FileProtocolHandler URL`), so no character in it can run anything. On Linux without
 * DISPLAY or WAYLAND_DISPLAY (a server, a container, an SSH session) nothing is started. The URL
 * is always printed too, so a failed or absent opener only costs a copy and paste.
 *
 * Returns whether an opener was started (not whether a browser showed the page).
 */
export function openInBrowser(url: string, env: Readonly<Record<string, string | undefined>> = process.env, platform: NodeJS.Platform = process.platform): boolean {
  // Only a URL we built reaches here; still, refuse anything but http(s) without whitespace.
  if (!/^https?:\/\/[^\s"'<>`]+$/.test(url)) return false;
  let command: string;
  let args: string[];
  if (platform === 'darwin') {
    command = 'open';
    args = [url];
  } else if (platform === 'win32') {
    command = 'rundll32';
    args = ['url.dll,FileProtocolHandler', url];
  } else {
    if ((env.DISPLAY ?? '') === '' && (env.WAYLAND_DISPLAY ?? '') === '') return false;
    command = 'xdg-open';
    args = [url];
  }
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, shell: false });
    child.on('error', () => undefined); // no opener installed: the printed URL is the way
    child.unref();
    return true;
  } catch {
    return false;
  }
}
