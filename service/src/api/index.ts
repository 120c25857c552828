// The HTTP API besides the stream: match state and mutations, the caller's profile, the
// producer publish route, health, the development token route, and the one error shape.
export {
  installErrorHandling,
  classify,
  clientErrorHandler,
  errorBody,
  sendError,
  HttpError,
  ErrorBody,
} from './errors.ts';
export { MatchStore } from './match-store.ts';
export { matchRoutes } from './matches.ts';
export { profileRoutes } from './profile.ts';
export { publishRoutes } from './publish.ts';
export { healthRoutes, readiness } from './health.ts';
export { devTokenRoutes } from './dev-token.ts';
