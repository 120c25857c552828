// Build step: tsc compiles the plugin that serves the page but does not copy the page's own
// files, so `npm run build` copies them beside it (dist/client/public), where routes.ts
// finds them in the image as it does in the source tree.
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('./public', import.meta.url));
const to = fileURLToPath(new URL('../../../dist/client/public', import.meta.url));
cpSync(from, to, { recursive: true });
