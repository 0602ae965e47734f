import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { DASHBOARD } from '../session.ts';
import { applyTheme, storedTheme, type ThemeChoice } from '../theme.ts';
import { useUi } from '../context.tsx';

const NAV = [
  { href: `${DASHBOARD}/`, label: 'Applications', match: (path: string) => path === DASHBOARD || path.startsWith(`${DASHBOARD}/apps`) },
  { href: `${DASHBOARD}/event-types`, label: 'Event types' },
  { href: `${DASHBOARD}/sources`, label: 'Sources' },
  { href: `${DASHBOARD}/bins`, label: 'Bins' },
];

export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme());
  return (
    <label class="theme-toggle">
      <span class="visually-hidden">Theme</span>
      <select
        value={choice}
        onChange={(event) => {
          const value = event.currentTarget.value as ThemeChoice;
          setChoice(value);
          applyTheme(value);
        }}
      >
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}

/** The dashboard's frame: top bar with navigation, theme and sign out, then the page. */
export function DashboardLayout({ children }: { children: ComponentChildren }) {
  const { session, abilities } = useUi();
  const { path } = useLocation();
  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="topbar">
        <a class="brand" href={`${DASHBOARD}/`}>Herald</a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => {
              const current = item.match ? item.match(path) : path.startsWith(item.href);
              return (
                <li key={item.href}>
                  <a href={item.href} aria-current={current ? 'page' : undefined}>{item.label}</a>
                </li>
              );
            })}
          </ul>
        </nav>
        <div class="topbar-end">
          <ThemeToggle />
          <button type="button" class="btn btn-ghost" onClick={() => session.signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1} data-abilities={abilities.known ? 'known' : 'pending'}>{children}</main>
    </>
  );
}
