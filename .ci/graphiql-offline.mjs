// GraphiQL works offline: headless Chromium opens GET /graphiql with every request to another
// origin failed (and counted), puts a token in GraphiQL's headers, and checks that the page
// loaded the schema (the documentation explorer names the root type) and ran a query.
// Chromium is driven over --remote-debugging-pipe (DevTools protocol, no extra packages).
// Usage: node graphiql-offline.mjs http://127.0.0.1:PORT TOKEN [chromium]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, token, binary = 'chromium'] = process.argv.slice(2);
const origin = new URL(base).origin;
const profile = mkdtempSync(join(tmpdir(), 'graphiql-chromium-'));
const browser = spawn(binary, [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--remote-debugging-pipe',
  `--user-data-dir=${profile}`, '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  'about:blank',
], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const [, , , toBrowser, fromBrowser] = browser.stdio;

let nextId = 1;
const pending = new Map();
const listeners = [];
let buffer = '';
fromBrowser.on('data', (chunk) => {
  buffer += chunk.toString();
  let end;
  while ((end = buffer.indexOf('\0')) >= 0) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result);
    } else {
      for (const listener of listeners) listener(message);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let failures = 0;
const elsewhere = [];
const timer = setTimeout(() => { console.error('graphiql check: timed out'); finish(1); }, 60000);
function finish(code) {
  clearTimeout(timer);
  browser.kill();
  browser.on('exit', () => {
    try { rmSync(profile, { recursive: true, force: true }); } catch { /* left for the OS */ }
    process.exit(code);
  });
}

try {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  listeners.push((message) => {
    if (message.method !== 'Fetch.requestPaused' || message.sessionId !== sessionId) return;
    const { requestId, request } = message.params;
    if (process.env.GRAPHIQL_DEBUG && request.url.includes('/graphql')) {
      console.error(request.method, request.url, JSON.stringify(request.headers).slice(0, 300), (request.postData || '').slice(0, 200));
    }
    if (new URL(request.url).origin === origin) {
      page('Fetch.continueRequest', { requestId }).catch(() => {});
    } else {
      elsewhere.push(request.url);
      page('Fetch.failRequest', { requestId, errorReason: 'InternetDisconnected' }).catch(() => {});
    }
  });
  await page('Fetch.enable', { patterns: [{ urlPattern: '*' }] });
  await page('Runtime.enable');
  const evaluate = async (expression) =>
    (await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })).result.value;
  await page('Page.navigate', { url: `${origin}/graphiql` });
  await sleep(1500);
  // GraphiQL keeps its editors in localStorage: the token's header and a query.
  await evaluate(`localStorage.clear();
    localStorage.setItem('graphiql:headers', ${JSON.stringify(JSON.stringify({ Authorization: `Bearer ${token}` }))});
    localStorage.setItem('graphiql:query', '{ me { role } }'); true`);
  await page('Page.reload');
  // GraphiQL fetches the schema on start, before the headers editor holds the token (that
  // answer is UNAUTHENTICATED); a user then presses "Re-fetch GraphQL schema", and so do we.
  let schema = false;
  let answered = false;
  for (let i = 0; i < 40 && !(schema && answered); i++) {
    await sleep(500);
    schema = await evaluate(`(() => {
      const explorer = document.querySelector('.graphiql-doc-explorer');
      if (explorer && /Query/.test(explorer.innerText)) return true;
      const refetch = document.querySelector('[aria-label="Re-fetch GraphQL schema"]');
      if (refetch && ${i} % 4 === 1) refetch.click();
      const docs = document.querySelector('[aria-label="Show Documentation Explorer"]');
      if (docs) docs.click();
      return false;
    })()`);
    if (i % 4 === 2) {
      await evaluate(`(() => {
        const run = document.querySelector('.graphiql-execute-button');
        if (run) run.click();
        return !!run;
      })()`);
    }
    answered = await evaluate(`document.body.innerText.includes('"SUPERVISOR"')`);
  }
  if (process.env.GRAPHIQL_DEBUG) {
    console.error(await evaluate(`JSON.stringify(Object.entries(localStorage)) + '\\n' + document.body.innerText.slice(0, 3000)`));
  }
  if (!schema) { console.error('graphiql check: the schema did not load'); failures++; }
  if (!answered) { console.error('graphiql check: the query got no answer'); failures++; }
  if (elsewhere.length) { console.error('graphiql check: requests to other hosts:', elsewhere); failures++; }
  if (!failures) console.log('graphiql check: schema loaded and query answered, offline');
  finish(failures ? 1 : 0);
} catch (error) {
  console.error('graphiql check:', error);
  finish(1);
}
