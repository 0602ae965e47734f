import { useQuery } from '@tanstack/preact-query';
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { ApiError, seg } from '../api/client.ts';
import type { AttemptStats } from '../api/types.ts';
import { useApi, useAppScope } from '../context.tsx';
import { useThemeVersion } from '../theme.ts';
import { ErrorNote, Loading } from './feedback.tsx';

type Range = 'hour' | 'day' | 'week';
const RANGES: Record<Range, { label: string; ms: number; period: string }> = {
  hour: { label: 'Last hour', ms: 3600_000, period: 'FiveMinutes' },
  day: { label: 'Last day', ms: 24 * 3600_000, period: 'OneHour' },
  week: { label: 'Last week', ms: 7 * 24 * 3600_000, period: 'OneHour' },
};
const PERIOD_MS: Record<string, number> = { FiveMinutes: 300_000, OneHour: 3600_000, OneDay: 86_400_000 };

/**
 * Messages, attempts (succeeded, failed) and latency (p50, p95, p99) over the last hour, day or
 * week, for an application or one of its endpoints (the messages sent to it), from
 * GET /api/v1/stats/app/{app}/attempt.
 */
export function StatsPanel({ endpointId }: { endpointId?: string }) {
  const api = useApi();
  const scope = useAppScope();
  const [range, setRange] = useState<Range>('day');
  const stats = useQuery({
    queryKey: ['stats', scope.appId, endpointId ?? null, range],
    queryFn: () => {
      const endDate = new Date();
      const startDate = new Date(endDate.getTime() - RANGES[range].ms);
      return api.get<AttemptStats>(`/api/v1/stats/app/${seg(scope.appId)}/attempt`, {
        startDate: startDate.toISOString(),
        endDate: endDate.toISOString(),
        period: RANGES[range].period,
        endpoint_id: endpointId,
      });
    },
    refetchInterval: 60_000,
    placeholderData: (previous) => previous,
  });

  let body;
  if (stats.isPending) body = <Loading what="Loading statistics" />;
  else if (stats.isError) {
    body = stats.error instanceof ApiError && stats.error.status === 404 && stats.error.code === 'not_found' && /No route/.test(stats.error.message)
      ? <p class="muted">This Herald does not serve statistics yet.</p>
      : <ErrorNote error={stats.error} />;
  } else {
    const { data } = stats.data;
    const step = PERIOD_MS[stats.data.period] ?? 3600_000;
    const start = new Date(stats.data.startDate).getTime();
    const sum = (values: Array<number | null> | undefined) => (values ?? []).reduce<number>((a, b) => a + (b ?? 0), 0);
    const total = sum(data.successCount) + sum(data.failureCount);
    const canceled = sum(data.canceledCount);
    const messages = data.messageCount ? sum(data.messageCount) : null;
    const counted = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
    const summary = total === 0 && !messages
      ? `No ${messages === null ? '' : 'messages or '}attempts in this range.`
      : `${messages === null ? '' : `${counted(messages, 'message')}, `}${counted(total, 'attempt')} in this range.`;
    body = (
      <>
        <p class="muted small">
          {summary}
          {canceled > 0 ? ` ${canceled} canceled (counted as failed).` : ''}
        </p>
        <div class="charts">
          {data.messageCount ? (
            <Chart title="Messages" kind="bars" start={start} step={step} series={[
              { label: 'Messages', values: data.messageCount, color: '--accent' },
            ]} />
          ) : null}
          <Chart title="Attempts" kind="bars" start={start} step={step} series={[
            { label: 'Succeeded', values: data.successCount, color: '--ok' },
            { label: 'Failed', values: data.failureCount, color: '--danger' },
          ]} />
          <Chart title="Latency (ms)" kind="lines" wide start={start} step={step} series={[
            { label: 'p50', values: data.latencyP50 ?? [], color: '--accent' },
            { label: 'p95', values: data.latencyP95 ?? [], color: '--warn' },
            { label: 'p99', values: data.latencyP99 ?? [], color: '--danger' },
          ]} />
        </div>
      </>
    );
  }
  return (
    <section class="card stats-panel" aria-label="Statistics">
      <div class="stats-head">
        <h2>Deliveries</h2>
        <div class="range" role="group" aria-label="Range">
          {(Object.keys(RANGES) as Range[]).map((key) => (
            <button key={key} type="button" class="btn btn-small" aria-pressed={range === key} onClick={() => setRange(key)}>{RANGES[key].label}</button>
          ))}
        </div>
      </div>
      {body}
    </section>
  );
}

interface Series {
  label: string;
  values: Array<number | null>;
  /** A CSS variable of the theme. */
  color: string;
}

/**
 * One uPlot chart, loaded on first use (its own chunk), sized to its box. Bucket i covers
 * [start + i·step, start + (i+1)·step): each is drawn at its middle, the x scale spans every
 * bucket whole (the current one too), and two bar series stand side by side in their bucket rather
 * than one hiding the other. Away from the cursor the legend shows each series' total (bars) or
 * its highest value (lines), not dashes.
 */
function Chart({ title, start, step, series, kind, wide = false }: { title: string; start: number; step: number; series: Series[]; kind: 'bars' | 'lines'; wide?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  // Colours are read from the theme when the chart is made: it is made again when they change.
  const theme = useThemeVersion();
  const count = series[0]?.values.length ?? 0;
  const xs = Array.from({ length: count }, (_, i) => (start + (i + 0.5) * step) / 1000);
  const summaryOf = (values: Array<number | null>) => (kind === 'bars'
    ? values.reduce<number>((a, b) => a + (b ?? 0), 0)
    : values.reduce<number | null>((a, b) => (b === null ? a : a === null ? b : Math.max(a, b)), null));
  useEffect(() => {
    let plot: uPlot | null = null;
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    void Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      if (cancelled || !box.current) return;
      const css = getComputedStyle(document.documentElement);
      const color = (name: string) => css.getPropertyValue(name).trim() || '#888';
      const axis = { stroke: color('--muted'), grid: { stroke: color('--border'), width: 1 }, ticks: { stroke: color('--border') } };
      const side = series.length > 1 ? 0.4 : 0.7;
      const bars = (align: -1 | 0 | 1) => UPlot.paths.bars!({ size: [side, 48, 2], align });
      const timeOf = UPlot.fmtDate('{YYYY}-{MM}-{DD} {HH}:{mm}');
      const range: uPlot.Range.MinMax = [start / 1000, (start + count * step) / 1000];
      plot = new UPlot({
        width: box.current.clientWidth || 400,
        height: 200,
        axes: [axis, { ...axis, size: 50 }],
        scales: { x: { time: true, range: () => range }, y: kind === 'bars' ? { range: (_u, _min, max) => [0, Math.max(1, max)] } : {} },
        series: [
          { label: 'Time', value: (_u, value) => (value === null ? (kind === 'bars' ? 'whole range, totals' : 'whole range, highest') : timeOf(new Date((value * 1000) - step / 2))) },
          ...series.map((item, index) => ({
            label: item.label,
            stroke: color(item.color),
            width: kind === 'bars' ? 0 : 2,
            value: (_u: uPlot, value: number | null, _s: number, idx: number | null) => {
              const shown = idx === null ? summaryOf(item.values) : value;
              return shown === null ? '—' : String(Math.round(shown * 10) / 10);
            },
            ...(kind === 'bars'
              ? { fill: color(item.color), paths: bars(series.length === 2 ? (index === 0 ? -1 : 1) : 0), points: { show: false } }
              : { points: { show: true, size: 5, fill: color(item.color) } }),
            spanGaps: false,
          })),
        ],
      }, [xs, ...series.map((item) => item.values)] as uPlot.AlignedData, box.current);
      // Which buckets are on the canvas now: tests wait for it after a change of range.
      box.current.dataset.drawn = `${new Date(start).toISOString()}/${step / 1000}s/${count}`;
      observer = new ResizeObserver(() => plot?.setSize({ width: box.current?.clientWidth || 400, height: 200 }));
      observer.observe(box.current);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot?.destroy();
      if (box.current) delete box.current.dataset.drawn;
    };
  }, [JSON.stringify([start, step, series.map((item) => item.values)]), kind, theme]);
  return (
    <figure class={wide ? 'chart chart-wide' : 'chart'}>
      <h3>{title}</h3>
      <div ref={box} role="img" aria-label={`${title}: ${series.map((item) => `${item.label} ${summaryOf(item.values) ?? 'none'}`).join(', ')}`} />
    </figure>
  );
}
