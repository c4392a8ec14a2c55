// GET /jobcast-client.js: the client SDK as one browser ES module. A page served from
// another origin (allowed by --allowed-origins) imports it and shows live bars with the
// few lines the README shows.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob } from './helpers/http.js';
import { browserSkipReason, launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';

const skip = browserSkipReason() ?? false;

/** The README's example page, with the server's address filled in. */
function examplePage(serverUrl: string): string {
  return `<!doctype html>
<meta charset="utf-8">
<ul id="files"></ul>
<script type="module">
  import { createClient } from '${serverUrl}/jobcast-client.js';
  const list = document.getElementById('files');
  createClient().watch(new URLSearchParams(location.search).get('job'), (job) => {
    if (!job) return;
    list.replaceChildren(...job.files.map((file) => {
      const item = document.createElement('li');
      item.append(Object.assign(document.createElement('progress'), { max: 1, value: file.fraction }), \` \${file.name} \${file.status}\`);
      return item;
    }));
  });
</script>
`;
}

test('GET /jobcast-client.js is an ES module anyone may load', async (t) => {
  const server = await startTestServer(t);
  const res = await fetch(`${server.url}/jobcast-client.js`, { headers: { origin: 'http://elsewhere.example' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const text = await res.text();
  assert.match(text, /export\s*\{[^}]*createClient/);
  const imports = text.match(/(?:^|[;}])\s*import\s*(?:[{*]|[\w$]+\s+from|["'])/gm);
  assert.equal(imports, null, 'one module: it imports nothing');
});

test('a page on another origin shows live bars with a <script type="module"> and a few lines', { skip }, async (t) => {
  // Launched first, so that it closes first: the page must not see the server go away.
  const browser = await launchBrowser(t);
  // The page's own server, on another port: another origin.
  const pageServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(examplePage(String(jobcastUrl)));
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  t.after(() => pageServer.close());
  const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;

  const server = await startTestServer(t, { processorDir: FIXTURE_PROCESSORS, allowedOrigins: [pageOrigin], progressIntervalMs: 20 });
  const jobcastUrl: string = server.url;
  // `gated` holds each file at half done until the test writes `release`.
  const job = await createJob(server.url, [{ name: 'one.bin', content: Buffer.alloc(4096) }, { name: 'two.bin', content: Buffer.alloc(4096) }], { processor: 'gated' });

  const page = await openPage(t, browser, `${pageOrigin}/?job=${job.id}`);
  const first = page.locator('li', { hasText: 'one.bin running' });
  await first.waitFor();
  await page.waitForFunction('document.querySelector("li progress")?.value === 0.5');
  await writeFile(join(server.dir, 'release'), '');
  await page.locator('li', { hasText: 'two.bin done' }).waitFor();
  const values = await page.locator('li progress').evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('value') ?? (b as unknown as { value: number }).value)));
  assert.deepEqual(values, [1, 1]);
  await screenshot(page, 'client-module-other-origin');
});
