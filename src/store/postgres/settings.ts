import type { SettingStore } from '../store.ts';
import type { PostgresDatabase } from './database.ts';

export function postgresSettings(db: PostgresDatabase): SettingStore {
  return {
    async get(name) {
      return (await db.one<{ value: string }>('SELECT value FROM settings WHERE name = ?', [name]))?.value ?? null;
    },
    async claim(name, value) {
      await db.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, value]);
      return (await db.one<{ value: string }>('SELECT value FROM settings WHERE name = ?', [name]))!.value;
    },
  };
}
