/** Light, dark, or whatever the system prefers; the choice is kept per browser. */
export type ThemeChoice = 'light' | 'dark' | 'system';

const KEY = 'herald.theme';

export function storedTheme(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

/** Sets `data-theme` on <html>, which the CSS variables follow; 'system' leaves it to the media query. */
export function applyTheme(choice: ThemeChoice, remember = true): void {
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  if (!remember) return;
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {}
}
