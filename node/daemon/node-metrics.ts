// The node daemon's own metrics, beside the shared ones (runtime/metrics.ts): signature
// work and the history its machine holds. Each reads its source at scrape time.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BatchSigner } from '../../protocol/batch-signature.ts';
import type { SignatureScheme } from '../../protocol/signature.ts';
import { countFrom } from '../../runtime/metrics.ts';
import type { NodeMachineApi } from '../core/api.ts';

/** Checks run or answered from the verified-signature cache, and batch signatures made. */
export function registerSignatureMetrics(registry: Registry, scheme: SignatureScheme & { checks(): number; hits(): number }, signer: BatchSigner): void {
  let counted = { checks: 0, hits: 0 };
  new Counter({
    name: 'ringmint_signature_verifications_total',
    help: 'signature checks asked of the machine\'s scheme: run (checked) or answered by the verified-signature cache (cached)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const now = { checks: scheme.checks(), hits: scheme.hits() };
      this.inc({ result: 'checked' }, now.checks - counted.checks);
      this.inc({ result: 'cached' }, now.hits - counted.hits);
      counted = now;
    },
  });
  countFrom(registry, 'ringmint_batch_signatures_total', 'Ed25519 signatures made over a batch of votes and receipts (a batch of one is a plain signature)', () => signer.batches);
  countFrom(registry, 'ringmint_batch_signed_objects_total', 'votes and receipts signed in batches; divided by ringmint_batch_signatures_total, the mean batch size', () => signer.objects);
}

/** ringmint_history_held{kind}: what the machine keeps in memory (the rest is read back from the store). */
export function registerHistoryHeld(registry: Registry, machine: NodeMachineApi): void {
  if (machine.held === undefined) return;
  new Gauge({
    name: 'ringmint_history_held',
    help: 'history the node machine holds in memory, by kind (accounts, locks, credits, bundles; reported_credits: credits peers reported and not yet applied here); the rest is read back from the store',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const h = machine.held!();
      for (const kind of ['accounts', 'locks', 'credits', 'bundles'] as const) this.set({ kind }, h[kind]);
      this.set({ kind: 'reported_credits' }, h.reportedCredits);
    },
  });
}
