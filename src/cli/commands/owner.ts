import { segment } from '../api-client.ts';
import type { ApiRun } from '../api-command.ts';
import type { Argument, Option } from '../command.ts';

/**
 * Endpoints, messages and attempts belong to an application, or to a source (whose API is the
 * same under `/ingest/api/v1/source/{id}`): `--source` says the first argument names a source.
 */
export const OWNER_ARG: Argument = { name: 'app', describe: 'application id or uid (a source id or uid with --source)' };
export const SOURCE_OPTION = {
  source: { type: 'boolean', describe: "the first argument is a source, and this is about the source's endpoints and requests" },
} as const satisfies Record<string, Option>;

export const ownerPath = (run: ApiRun) => `${run.values.source ? '/ingest/api/v1/source' : '/api/v1/app'}/${segment(run.args[0]!)}`;
