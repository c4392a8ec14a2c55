// Bundles the demo pages with esbuild: TypeScript sources, the client SDK and the
// shared reducer go into one script per page under dist/client-demo/.
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
