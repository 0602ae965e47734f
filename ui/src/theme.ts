import { useEffect, useState } from 'preact/hooks';

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

/**
 * A number that changes whenever the theme's colours may have: `data-theme` or an inline variable
 * (the portal's accent) set on <html>, or the system's light/dark preference. What paints with
 * colours read from the CSS variables (the charts' canvas) draws again when it changes.
 */
export function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((value) => value + 1);
    const observer = new MutationObserver(bump);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'style'] });
    const media = matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', bump);
    return () => {
      observer.disconnect();
      media.removeEventListener('change', bump);
    };
  }, []);
  return version;
}
