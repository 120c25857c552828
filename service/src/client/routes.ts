// Serves the live page at GET / and its modules and stylesheet at GET /client/<file>. The
// files are read once at registration from public/ next to this module: in development that
// is service/src/client/public, in the image dist/client/public (`npm run build` copies it,
// because tsc emits only compiled TypeScript). The set of files is fixed at start, so no
// request path ever reaches the file system.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, HttpError } from '../api/index.ts';

export const PUBLIC_DIR = join(import.meta.dirname, 'public');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface ClientRoutesOptions {
  /** True when GET /api/dev/token exists: the page may mint its own development token. */
  readonly devTokens: boolean;
  readonly publicDir?: string;
}

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) continue;
    assets.set(name, { body: readFileSync(join(dir, name)), contentType });
  }
  return assets;
}

const DEV_TOKENS_MARKER = /(<meta name="trayb-dev-tokens" content=")off(")/;

/**
 * Turns the page's development-token marker on. Matched on the attribute, not the whole tag,
 * so reformatting index.html cannot silently switch development tokens off; a page without
 * the marker fails at start rather than serving a page that never asks for a token.
 */
function markDevTokens(html: string): string {
  if (!DEV_TOKENS_MARKER.test(html))
    throw new Error('index.html has no <meta name="trayb-dev-tokens" content="off"> marker');
  return html.replace(DEV_TOKENS_MARKER, '$1on$2');
}

const FileParams = Type.Object({ file: Type.String({ pattern: '^[a-z0-9-]+\\.(js|css)$', maxLength: 64 }) });

export async function clientRoutes(instance: FastifyInstance, options: ClientRoutesOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const assets = loadAssets(options.publicDir ?? PUBLIC_DIR);
  const index = assets.get('index.html');
  if (index === undefined) throw new Error(`the live page is missing from ${options.publicDir ?? PUBLIC_DIR}`);
  const page = options.devTokens ? Buffer.from(markDevTokens(index.body.toString('utf8'))) : index.body;

  // no-cache: browsers revalidate, so a deploy never leaves a page running old modules.
  app.get('/', async (_request, reply) => reply.header('cache-control', 'no-cache').type(index.contentType).send(page));
  app.get(
    '/client/:file',
    { schema: { params: FileParams, response: { 200: Type.Unknown(), 400: ErrorBody, 404: ErrorBody } } },
    async (request, reply) => {
      const asset = assets.get(request.params.file);
      if (asset === undefined) throw new HttpError(404, `no client file ${request.params.file}`);
      return reply.header('cache-control', 'no-cache').type(asset.contentType).send(asset.body);
    },
  );
}
