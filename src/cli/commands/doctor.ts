import type { Command } from '../command.ts';
import { paint, screenOf } from '../output.ts';
import { configFrom, SETTING_OPTIONS } from '../settings.ts';

const MARK = { ok: ['✔', 'good'], warn: ['!', 'warn'], fail: ['✖', 'bad'] } as const;

export const doctor: Command = {
  name: 'doctor',
  summary: 'check this machine, the database and the settings, and say how to fix what is wrong',
  description: [
    'Checks Node.js, the data directory (permissions, free space), the database (reachable, schema version, WAL mode, latency),',
    'the clock against PostgreSQL\'s, and the encryption key against the database\'s secrets; with --endpoint, that a URL is allowed',
    'by the address policy and accepts connections. It only reads: nothing is migrated or generated, and it runs beside a live Herald.',
    'Exit code 1 when something fails.',
  ].join('\n'),
  options: { ...SETTING_OPTIONS, endpoint: { type: 'string', value: 'url', describe: 'also check that Herald may and can deliver to this URL' } },
  examples: ['herald doctor', 'herald doctor --database-url postgres://herald@db/herald --endpoint https://hooks.example.com/in'],
  async run({ values }, io) {
    const config = configFrom(values, io);
    if (!config) return 2;
    const { diagnose } = await import('../../doctor.ts');
    const findings = await diagnose(config, { endpoint: values.endpoint as string | undefined });
    const screen = screenOf(io.stdout, io.env);
    for (const finding of findings) {
      const [mark, tone] = MARK[finding.verdict];
      io.stdout.write(`${paint(screen, tone, mark)} ${finding.check}: ${finding.detail}\n`);
      if (finding.fix) io.stdout.write(`    ${paint(screen, 'dim', `→ ${finding.fix}`)}\n`);
    }
    return findings.some((finding) => finding.verdict === 'fail') ? 1 : 0;
  },
};
