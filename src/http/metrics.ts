// Prometheus text exposition of the heartbeat counters kept in Redis.
import type { CounterName } from '../heartbeat/signals.js';

const help: Record<CounterName, string> = {
  ticks: 'Heartbeat ticks run',
  quiet: 'Ticks that ended quiet (no news, or nothing worth saying)',
  busy: 'Ticks skipped because another process was ticking the workspace',
  woken: 'Ticks whose gate woke the brain',
  spoke: 'Decisions that queued at least one message',
  vetoed: 'Decisions whose every message the policy vetoed',
  acted: 'Decisions that ran an approved action',
  model_calls: 'Calls to a language model',
  tokens: 'Model tokens used (input, output and cache)',
  cost_micro_usd: 'Model cost in millionths of a US dollar',
  replies: 'Mentions answered',
  failed: 'Ticks that failed and will be retried',
};

export function renderMetrics(counters: Record<CounterName, number>, extra: { name: string; help: string; value: number }[]): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(counters) as [CounterName, number][]) {
    const metric = `tacit_${name}_total`;
    lines.push(`# HELP ${metric} ${help[name]}`, `# TYPE ${metric} counter`, `${metric} ${value}`);
  }
  for (const g of extra) lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name} ${g.value}`);
  return `${lines.join('\n')}\n`;
}
