// Bundles the browser code with esbuild: the demo pages (TypeScript sources, the client
// SDK and the shared reducer in one script per page, under dist/client-demo/), and the
// client SDK alone as one ES module (dist/browser/jobcast-client.js), which the server
// serves at GET /jobcast-client.js.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: {
    upload: 'client-demo/src/upload-page.ts',
    dashboard: 'client-demo/src/dashboard-page.ts',
    styles: 'client-demo/src/styles.css',
  },
  bundle: true,
  format: 'esm',
  target: 'es2020',
  outdir: 'dist/client-demo',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
await build({
  absWorkingDir: root,
  entryPoints: { 'jobcast-client': 'client/browser.ts' },
  bundle: true,
  format: 'esm',
  target: 'es2020',
  outdir: 'dist/browser',
  minify: true,
  legalComments: 'none',
  banner: { js: '// jobcast client SDK as one ES module: createClient, applyEvent, foldEvents (see the README).' },
  logLevel: 'warning',
});
