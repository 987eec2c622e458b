// Bundled by harness.mjs into the page's init script: replaces the Tauri IPC of the built UI
// with the in-memory mock backend (ui/src/mock), before any app script runs.
import { installMockBackend } from '../../ui/src/mock/backend';
import { bulkData, demoData } from '../../ui/src/mock/demo';

interface MockConfig {
  kind: 'demo' | 'bulk';
  n?: number;
  latencyMs?: number;
  loginMs?: number;
}

const cfg: MockConfig = (window as unknown as { __MOCK_CONFIG__?: MockConfig }).__MOCK_CONFIG__ ?? {
  kind: 'demo',
};
const now = Date.now();
// bench/tick/churn.mjs drives the backend from the page (tokens renewed in the background).
(window as unknown as { __mockBackend?: unknown }).__mockBackend = installMockBackend(cfg.kind === 'bulk' ? bulkData(cfg.n ?? 500, now) : demoData(now), {
  latencyMs: cfg.latencyMs ?? 0,
  loginMs: cfg.loginMs ?? 600_000,
});
