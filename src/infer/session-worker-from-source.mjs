// Worker entry used only when running from TypeScript sources (tsx, vitest): a worker thread
// doesn't inherit the parent's TypeScript loader on Node 20, so register tsx here first.
import { register } from 'tsx/esm/api';

register();
await import('./session-worker.ts');
