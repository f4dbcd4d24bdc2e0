// Benchmark: rendering the incident chart (SVG built in-process, rasterised by resvg with the bundled
// font). Reports the time per chart for a typical Prometheus range (80 minutes at a 30 s step) and a
// long one (11,000 samples, the most a Prometheus range query returns), plus the PNG size.
import { renderMetricChart, type MetricChartInput } from '../src/investigate/chart.js';

const MINUTE_MS = 60_000;
const runs = 50;

function input(samples: number): MetricChartInput {
  const startAt = Date.UTC(2026, 11, 1, 14, 2);
  const stepMs = (80 * MINUTE_MS) / samples;
  const from = startAt - 60 * MINUTE_MS;
  const points = Array.from({ length: samples }, (_, i): [number, number] => {
    const t = from + i * stepMs;
    return [t, 180 + 20 * Math.sin(t / 400_000) + (t > startAt ? 520 : 0)];
  });
  return { title: 'p99 latency, checkout-api', unit: 'ms', points, threshold: 500, startAt, suspectAt: startAt - 9 * MINUTE_MS, suspectLabel: 'deploy a1b2c3d' };
}

function measure(samples: number): { samples: number; 'p50 ms': string; 'p95 ms': string; 'png KiB': string } {
  const chart = input(samples);
  renderMetricChart(chart); // warm-up: the first call loads the native module
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    bytes = renderMetricChart(chart).length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): string => (times[Math.floor(q * (times.length - 1))] ?? Number.NaN).toFixed(1);
  return { samples, 'p50 ms': at(0.5), 'p95 ms': at(0.95), 'png KiB': (bytes / 1024).toFixed(1) };
}

export async function benchChart(): Promise<void> {
  console.log(`\nincident chart: renderMetricChart, 800 x 400 PNG (${runs} runs each, one core)`);
  console.table([measure(161), measure(11_000)]);
}
