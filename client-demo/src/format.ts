// Human-readable figures for the pages.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536000 -> "1.5 MB" (powers of 1000, like the server's size settings). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** 812 -> "812 ms", 65000 -> "1 min 5 s". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Bytes per second -> "12 MB/s". */
export function formatRate(bytesPerSecond: number | null): string {
  return bytesPerSecond === null || !Number.isFinite(bytesPerSecond) ? '—' : `${formatBytes(bytesPerSecond)}/s`;
}

export function formatPercent(fraction: number): string {
  return `${Math.floor(fraction * 100)}%`;
}

/** 3 -> "3/s", 0.25 -> "0.25/s": a count per second. */
export function formatPerSecond(perSecond: number | null, unit: string): string {
  if (perSecond === null || !Number.isFinite(perSecond)) return '—';
  const value = perSecond >= 100 ? Math.round(perSecond) : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2).replace(/\.?0+$/, '');
  return `${value} ${unit}/s`;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });

/** How long ago `ts` was, from `now` (both Unix ms): "now", "12 sec. ago", "3 min. ago", "2 days ago". */
export function formatAgo(ts: number, now: number): string {
  const seconds = Math.round((ts - now) / 1000);
  if (Math.abs(seconds) < 5) return 'just now';
  if (Math.abs(seconds) < 60) return relative.format(seconds, 'second');
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relative.format(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relative.format(hours, 'hour');
  return relative.format(Math.round(hours / 24), 'day');
}

/** The exact local date and time of `ts`, for a title. */
export function formatExact(ts: number): string {
  return new Date(ts).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}
