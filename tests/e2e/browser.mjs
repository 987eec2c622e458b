// The e2e tests' "system browser" (TOKENDESK_BROWSER): the built-in sandbox's one-button login
// when the sign-in goes to the sandbox (TOKENDESK_SANDBOX_PORT), else the test provider's
// walker (tests/provider/login.mjs). Like a browser, it delivers an answer in the fragment
// (hybrid `code id_token`) the way TokenDesk's relay page does: GET <path>?<fragment>.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { navigate } from '../provider/navigate.mjs';

const url = process.argv[2];
const here = path.dirname(fileURLToPath(import.meta.url));
const sandboxPort = process.env.TOKENDESK_SANDBOX_PORT;

if (!sandboxPort || new URL(url).port !== sandboxPort) {
  const child = spawn(process.execPath, [path.join(here, '../provider/login.mjs'), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await sandboxLogin(url);
}

async function sandboxLogin(start) {
  const first = await fetch(start, { redirect: 'manual' });
  let redirect = first.headers.get('location');
  if (!redirect) {
    const html = await first.text();
    const action = /action="([^"]+)"/.exec(html)?.[1];
    const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !requestId) throw new Error(`no login form on the sandbox page (HTTP ${first.status})`);
    const approved = await fetch(new URL(action.replaceAll('&amp;', '&'), start), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `request_id=${encodeURIComponent(requestId)}&decision=approve`,
    });
    redirect = approved.headers.get('location');
    if (!redirect) throw new Error(`Approve did not redirect (HTTP ${approved.status})`);
  }
  const [address, fragment] = redirect.split('#');
  const target = fragment === undefined ? address : `${address.split('?')[0]}?${fragment}`;
  const delivered = await navigate(target);
  if (delivered.status !== 200) throw new Error(`the redirect URI answered HTTP ${delivered.status}`);
}
