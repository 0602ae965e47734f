import type { SettingStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

export function sqliteSettings(db: SqliteDatabase): SettingStore {
  return {
    async get(name) {
      return (db.get('SELECT value FROM settings WHERE name = ?', name)?.value as string | undefined) ?? null;
    },
    async claim(name, value) {
      await db.write(() => db.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', name, value));
      return db.get('SELECT value FROM settings WHERE name = ?', name)!.value as string;
    },
  };
}
