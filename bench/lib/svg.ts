/** Minimal SVG charts for docs/benchmarks.md: horizontal bars and lines, no dependencies. */

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"';
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface Bar {
  label: string;
  value: number;
  /** Optional whisker: [low, high]. */
  range?: [number, number];
  note?: string;
  /** Defaults to one colour per bar, in turn. */
  color?: string;
}

/** Horizontal bar chart with optional whiskers. */
export function barChart(title: string, unit: string, bars: readonly Bar[], width = 720): string {
  const labelWidth = 260;
  const rowHeight = 30;
  const top = 40;
  const plotWidth = width - labelWidth - 230;
  const maxValue = Math.max(...bars.map((bar) => bar.range?.[1] ?? bar.value)) || 1;
  const x = (value: number): number => labelWidth + (value / maxValue) * plotWidth;
  const height = top + bars.length * rowHeight + 20;
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const whisker =
      bar.range === undefined
        ? ''
        : `<line x1="${x(bar.range[0])}" x2="${x(bar.range[1])}" y1="${y + 11}" y2="${y + 11}" stroke="#111" stroke-width="1.5"/>`;
    const text = `${bar.value.toLocaleString('en-US', { maximumFractionDigits: 1 })}${unit === '' ? '' : unit === '%' ? '%' : ` ${unit}`}${bar.note ? ` ${bar.note}` : ''}`;
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 2}" width="${Math.max(1, x(bar.value) - labelWidth)}" height="18" fill="${bar.color ?? COLORS[i % COLORS.length]}" rx="2"/>`,
      whisker,
      `<text x="${x(Math.max(bar.value, bar.range?.[1] ?? 0)) + 6}" y="${y + 15}">${escape(text)}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}><rect width="100%" height="100%" fill="#fff"/><text x="12" y="22" font-size="14" font-weight="600">${escape(title)}</text>${rows.join('')}</svg>\n`;
}

export interface Series {
  label: string;
  points: readonly (readonly [number, number])[];
}

/** Line chart: x and y axes with a few ticks, one coloured line per series, a legend. */
export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
  width = 720,
  height = 320,
): string {
  const left = 70;
  const right = 250;
  const top = 36;
  const bottom = 44;
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(...all.map((p) => p[0])) || 1;
  const maxY = Math.max(...all.map((p) => p[1])) * 1.05 || 1;
  const x = (value: number): number => left + (value / maxX) * (width - left - right);
  const y = (value: number): number => height - bottom - (value / maxY) * (height - top - bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const axes = [
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#999"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#999"/>`,
    ...ticks.map(
      (t) =>
        `<text x="${x(maxX * t)}" y="${height - bottom + 16}" text-anchor="middle">${Math.round(maxX * t).toLocaleString('en-US')}</text>`,
    ),
    ...ticks.map(
      (t) =>
        `<text x="${left - 6}" y="${y(maxY * t) + 4}" text-anchor="end">${Math.round(maxY * t).toLocaleString('en-US')}</text><line x1="${left}" x2="${width - right}" y1="${y(maxY * t)}" y2="${y(maxY * t)}" stroke="#eee"/>`,
    ),
    `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle">${escape(xLabel)}</text>`,
    `<text x="14" y="${(top + height - bottom) / 2}" transform="rotate(-90 14 ${(top + height - bottom) / 2})" text-anchor="middle">${escape(yLabel)}</text>`,
  ];
  const lines = series.map((s, i) => {
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    const color = COLORS[i % COLORS.length];
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/><rect x="${width - right + 14}" y="${top + i * 20}" width="12" height="12" fill="${color}"/><text x="${width - right + 32}" y="${top + i * 20 + 11}">${escape(s.label)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}><rect width="100%" height="100%" fill="#fff"/><text x="12" y="22" font-size="14" font-weight="600">${escape(title)}</text>${axes.join('')}${lines.join('')}</svg>\n`;
}
