// The on-call status command (main.ts): one look at the realtime stream and every
// instance's consumer group, with the controller's verdict, read-only. It owns no reading
// or judging of its own: the groups come from the controller's observeStream(), the
// verdict from its pure decide(), the connection from redis/, the settings from config/.
export { StatusMonitor, type GroupStatus, type StatusReport, type StreamStatus, type Verdict } from './sample.ts';
export { statusSettings, PolicyArgumentError } from './settings.ts';
export { renderJson, renderTable } from './render.ts';
