import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Figures } from './load.js';

export const REPORT_BEGIN = '<!-- reliability-figures:begin (generated: do not edit by hand) -->';
export const REPORT_END = '<!-- reliability-figures:end -->';

const cell = (text: string): string => text.replace(/\|/g, '\\|');

function failures(failed: Record<string, number>): string {
  const entries = Object.entries(failed).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '0' : entries.map(([code, count]) => `${count} \`${code}\``).join(', ');
}

/** The scenarios' figures as a Markdown table, with a line saying when and where they were measured. */
export function renderFigures(rows: readonly Figures[], measuredAt = new Date()): string {
  const header = [
    'Scenario',
    'Injected',
    'Sent',
    'Settled',
    'Succeeded',
    'Failed (by code)',
    'Token requests (tokens issued)',
    'Replays',
    '401s answered',
    'API requests',
    'Max attempts per request',
    'Max token requests in flight',
    'Slowest settle (ms)',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const values = [
      row.scenario,
      row.setup,
      String(row.sent),
      String(row.settled),
      String(row.succeeded),
      failures(row.failed),
      `${row.tokenRequests} (${row.tokensIssued})`,
      String(row.replays),
      String(row.unauthorized),
      String(row.apiRequests),
      String(row.maxAttemptsPerRequest),
      String(row.maxTokenRequestsInFlight),
      String(row.slowestMs),
    ];
    lines.push(`| ${values.map(cell).join(' | ')} |`);
  }
  const where = `Node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} CPUs`;
  return [
    `Measured on ${measuredAt.toISOString()} (${where}) by \`RELIABILITY_REPORT=1 npx jest __tests__/fault-injection.test.ts\`.`,
    '',
    ...lines,
  ].join('\n');
}

/** Replaces the generated section of `file` (between the markers) with the figures of this run. */
export function writeFigures(file: string, rows: readonly Figures[]): void {
  const text = readFileSync(file, 'utf8');
  const begin = text.indexOf(REPORT_BEGIN);
  const end = text.indexOf(REPORT_END);
  if (begin === -1 || end < begin) throw new Error(`${file} has no generated-figures markers`);
  const before = text.slice(0, begin + REPORT_BEGIN.length);
  writeFileSync(file, `${before}\n${renderFigures(rows)}\n${text.slice(end)}`);
}
