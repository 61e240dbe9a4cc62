// Launches Debian's Chromium headless through playwright-core, with every feature that would reach past loopback switched off.
import * as fs from 'fs';
import { Browser, chromium } from 'playwright-core';

/** Debian's `chromium` package; FORKSAFE_CHROMIUM points elsewhere (Playwright never downloads a browser here). */
export const CHROMIUM_PATH = process.env.FORKSAFE_CHROMIUM || '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox', // CI runs as root, where Chromium's sandbox refuses to start
  '--disable-gpu',
  '--no-first-run',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-domain-reliability',
  // Only loopback resolves: a page (or VS Code) asking for any other host fails at once instead of trying the network.
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}: install Debian's package (apt-get install -y chromium) or set FORKSAFE_CHROMIUM to a Chromium binary.`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
}
