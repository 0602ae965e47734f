import { type Logger, pino } from 'pino';
import type { LogFormat } from './config/config.ts';

/**
 * Herald's logs: JSON lines (one object a line, what log shippers read) unless a person is
 * watching a terminal, who gets pino-pretty's coloured lines instead; `HERALD_LOG_FORMAT` forces
 * either. Whatever the format, values that could carry a credential are replaced before a line
 * is written: authorization and cookie headers, and any field named like a secret or a token,
 * at the top or one level down (`{ endpoint: { secret } }`).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', '*.headers.authorization',
  'authorization', 'token', 'secret', 'secrets', 'key', 'password', 'adminToken', 'metricsToken', 'encryptionKey',
  '*.authorization', '*.token', '*.secret', '*.secrets', '*.key', '*.password', '*.adminToken', '*.metricsToken', '*.encryptionKey',
];

/** Pretty only for `pretty`, or for `auto` on a terminal. */
export function prettyLogs(format: LogFormat, isTty: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTty);
}

export function createLogger(level: string, format: LogFormat, isTty = Boolean(process.stdout.isTTY)): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (!prettyLogs(format, isTty)) return pino(options);
  // pino's own transport: formatting runs on a worker thread, off the event loop.
  return pino({
    ...options,
    transport: { target: 'pino-pretty', options: { colorize: isTty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: false } },
  });
}
