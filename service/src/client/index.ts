// The browser client: the EventSource connection with its polling fallback and banner
// (public/*.js, plain ES modules, no build step), the live page that uses it, and the
// Fastify plugin that serves both from the service.
export { clientRoutes, PUBLIC_DIR, type ClientRoutesOptions } from './routes.ts';
